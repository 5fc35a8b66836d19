"""Glue between configs and mmengine's Runner."""
