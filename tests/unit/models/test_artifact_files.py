import stat
from pathlib import Path

from models.artifact import WEIGHTS_FILE


def test_artifact_weights_readable_by_others(random_model_dir: Path) -> None:
    mode = (random_model_dir / WEIGHTS_FILE).stat().st_mode
    assert mode & stat.S_IRGRP
    assert mode & stat.S_IROTH
    assert not mode & stat.S_IWOTH
