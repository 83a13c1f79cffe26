from __future__ import annotations

import rules

from commonground.organizations.rules import is_regional_admin

rules.add_perm("audit.view_trail", is_regional_admin)
