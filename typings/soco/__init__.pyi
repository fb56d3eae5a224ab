# In-tree stubs for soco 0.31.2, which ships no type information (no py.typed). They declare
# what the integration uses of soco, no more, with the signatures of soco's own source, so
# that mypy checks every soco call; a new use of soco fails `scripts/lint` until it is added.

from .core import SoCo as SoCo
