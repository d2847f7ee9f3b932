"""pytest fixtures that run fortisim, a simulator of Fortinet's FortiCare activation service.

Installed, pytest loads the plugin by itself (entry point `pytest11`); see README.md.
"""

from .server import (FORTICARE_HOST, MOBILE, PROCESS, Fortisim, FortisimError, FortisimStartError,
                     start)

__all__ = ["FORTICARE_HOST", "MOBILE", "PROCESS", "Fortisim", "FortisimError", "FortisimStartError",
           "start"]
