"""Model families: the registry (which module trains on which data, what it logs) and the protocols the entry
points need from a module. See docs/extending.md."""

from visiontrain.families.registry import (
    Family,
    families,
    family_of_datamodule,
    family_of_module,
    get_family,
    register,
)

__all__ = ["Family", "families", "family_of_datamodule", "family_of_module", "get_family", "register"]
