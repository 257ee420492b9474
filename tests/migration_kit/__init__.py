"""Tests of migration_kit, the package every bake ships, in place and unbaked.

It is plain Python in the template (copied without rendering), so its folder
goes on the path here: ``pip install -e`` would build it and leave an egg-info
in the template, which every bake would then copy. For the same reason no
bytecode is written: a __pycache__ beside the package would be baked too.
"""

import sys
from pathlib import Path

KIT = Path(__file__).parents[2] / "{{cookiecutter.project_slug}}" / "migration-kit"
sys.dont_write_bytecode = True
sys.path.insert(0, str(KIT / "src"))
