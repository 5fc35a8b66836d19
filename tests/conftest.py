"""Suite-wide fixtures."""
import pytest
from mmengine.registry import init_default_scope


@pytest.fixture(autouse=True)
def _customkpt_default_scope():
    """Each test starts in customkpt's registry scope: mmengine keeps the
    default scope process-wide, and a Runner built by an earlier test in the
    same worker would otherwise leave it at 'mmengine'."""
    init_default_scope('customkpt')
    yield
