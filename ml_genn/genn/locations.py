"""Memory locations and narrow sparse indices: the pygenn settings of where
GeNN keeps each array (host, device, both, zero-copy memory) and of 8/16-bit
sparse indices.

ml_genn keeps every array on the host and, with the CUDA backend, on the
device too (``push_to_device``/``pull_from_device`` copy between them), and
stores sparse indices as 32-bit integers, so these settings change neither
results nor memory layout here.  They are checked (known names, real
locations, before ``build()``) and remembered, so that pygenn scripts that
set or read them run unchanged.
"""
import numbers

import numpy as np

from .errors import ModelError
from .types import VarLocation


def check_location(location, what):
    """``location`` as a :class:`VarLocation`, or a ModelError naming ``what``."""
    members = VarLocation.__members__
    if not isinstance(location, (bool, np.bool_)) and \
            isinstance(location, (numbers.Integral, np.integer)) and \
            int(location) in {int(v) for v in members.values()}:
        return VarLocation(int(location))
    raise ModelError(f"{what}: {location!r} is not a memory location; use one of "
                     f"{', '.join('VarLocation.' + n for n in members)}")


def check_flag(value, what):
    if not isinstance(value, bool):
        raise ModelError(f"{what} must be True or False, got {value!r}")
    return value


class GroupLocations:
    """Per-array locations of a group (mixed into every group class).

    ``tables`` name the group's arrays by kind: ``"var"`` (``vars``),
    ``"extra_global_param"`` and, for synapse populations, ``"ps_var"``,
    ``"wu_pre_var"``, ``"wu_post_var"``, ``"ps_extra_global_param"``."""

    def _location_tables(self):
        return {"var": self.vars, "extra_global_param": self.extra_global_params}

    def _set_location(self, kind, name, location):
        table = self._location_tables()[kind]
        what = f"set_{kind}_location on {self.kind} '{self.name}'"
        self.genn_model._check_not_built(what)
        if name not in table:
            raise ModelError(f"{what}: no {kind.replace('_', ' ')} {name!r}; the "
                             f"{self.kind} has {sorted(table) or 'none'}")
        locations = self.__dict__.setdefault("_locations", {})
        locations[(kind, name)] = check_location(location, what)

    def _get_location(self, kind, name):
        table = self._location_tables()[kind]
        if name not in table:
            raise ModelError(f"get_{kind}_location on {self.kind} '{self.name}': no "
                             f"{kind.replace('_', ' ')} {name!r}; the {self.kind} has "
                             f"{sorted(table) or 'none'}")
        default = self.genn_model.default_var_location
        return self.__dict__.get("_locations", {}).get((kind, name), default)

    def set_var_location(self, name, location):
        """Where variable ``name`` is kept (every location behaves as
        HOST_DEVICE here: see :mod:`ml_genn.genn.locations`)."""
        self._set_location("var", name, location)

    def get_var_location(self, name):
        return self._get_location("var", name)

    def set_extra_global_param_location(self, name, location):
        self._set_location("extra_global_param", name, location)

    def get_extra_global_param_location(self, name):
        return self._get_location("extra_global_param", name)


class SynapseLocations(GroupLocations):
    """Locations of a synapse population's arrays, its connectivity and
    the width of its sparse indices."""

    def _location_tables(self):
        return {"var": self.vars, "ps_var": self.psm_vars, "wu_pre_var": self.pre_vars,
                "wu_post_var": self.post_vars, "extra_global_param": self.extra_global_params,
                "ps_extra_global_param": self.psm_extra_global_params}

    def set_wu_var_location(self, name, location):
        self._set_location("var", name, location)

    def get_wu_var_location(self, name):
        return self._get_location("var", name)

    def set_ps_var_location(self, name, location):
        self._set_location("ps_var", name, location)

    def get_ps_var_location(self, name):
        return self._get_location("ps_var", name)

    def set_wu_pre_var_location(self, name, location):
        self._set_location("wu_pre_var", name, location)

    def get_wu_pre_var_location(self, name):
        return self._get_location("wu_pre_var", name)

    def set_wu_post_var_location(self, name, location):
        self._set_location("wu_post_var", name, location)

    def get_wu_post_var_location(self, name):
        return self._get_location("wu_post_var", name)

    def set_wu_extra_global_param_location(self, name, location):
        self._set_location("extra_global_param", name, location)

    def get_wu_extra_global_param_location(self, name):
        return self._get_location("extra_global_param", name)

    def set_ps_extra_global_param_location(self, name, location):
        self._set_location("ps_extra_global_param", name, location)

    def get_ps_extra_global_param_location(self, name):
        return self._get_location("ps_extra_global_param", name)

    @property
    def sparse_connectivity_location(self):
        return self.__dict__.get("_connectivity_location",
                                 self.genn_model.default_sparse_connectivity_location)

    @sparse_connectivity_location.setter
    def sparse_connectivity_location(self, location):
        what = f"sparse_connectivity_location of synapse population '{self.name}'"
        self.genn_model._check_not_built(f"setting the {what}")
        self._connectivity_location = check_location(location, what)

    def set_sparse_connectivity_location(self, location):
        self.sparse_connectivity_location = location

    def get_sparse_connectivity_location(self):
        return self.sparse_connectivity_location

    @property
    def narrow_sparse_ind_enabled(self):
        """8/16-bit sparse indices where the target is small enough (GeNN);
        indices stay 32-bit here, which gives the same results."""
        return self.__dict__.get("_narrow_sparse_ind",
                                 self.genn_model.default_narrow_sparse_ind_enabled)

    @narrow_sparse_ind_enabled.setter
    def narrow_sparse_ind_enabled(self, value):
        what = f"narrow_sparse_ind_enabled of synapse population '{self.name}'"
        self.genn_model._check_not_built(f"setting the {what}")
        self._narrow_sparse_ind = check_flag(value, what)


class CustomConnectivityLocations(GroupLocations):
    """Locations of a custom connectivity update's per-synapse, pre and
    post variables."""

    def _location_tables(self):
        return {"var": self.vars, "pre_var": self.pre_vars, "post_var": self.post_vars,
                "extra_global_param": self.extra_global_params}

    def set_pre_var_location(self, name, location):
        self._set_location("pre_var", name, location)

    def get_pre_var_location(self, name):
        return self._get_location("pre_var", name)

    def set_post_var_location(self, name, location):
        self._set_location("post_var", name, location)

    def get_post_var_location(self, name):
        return self._get_location("post_var", name)
