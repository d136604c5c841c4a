"""A merchant's team: who may do what in the portal.

- owner: everything, including the team itself;
- developer: reads everything, and manages API keys and webhook endpoints (the integration);
- viewer: reads everything, changes nothing.

A team always keeps at least one owner.
"""

from __future__ import annotations

from enum import StrEnum


class MemberRole(StrEnum):
    OWNER = "owner"
    DEVELOPER = "developer"
    VIEWER = "viewer"


class Area(StrEnum):
    """What a change in the portal touches."""

    INTEGRATION = "integration"  # API keys, webhook endpoints
    TEAM = "team"                # members and their roles
    BUSINESS = "business"        # sellers, refunds, payouts, settings


ROLE_LABELS = {MemberRole.OWNER: "Owner", MemberRole.DEVELOPER: "Developer", MemberRole.VIEWER: "Viewer"}
ROLE_HELP = {MemberRole.OWNER: "Everything, including the team.",
             MemberRole.DEVELOPER: "Reads everything; manages API keys and webhooks.",
             MemberRole.VIEWER: "Reads everything; changes nothing."}

_MAY_CHANGE = {
    MemberRole.OWNER: frozenset(Area),
    MemberRole.DEVELOPER: frozenset({Area.INTEGRATION}),
    MemberRole.VIEWER: frozenset(),
}


def may_change(role: MemberRole, area: Area) -> bool:
    return area in _MAY_CHANGE[role]


def area_of_endpoint(endpoint: str) -> Area:
    """Which area a portal route that changes something belongs to (by its endpoint name)."""
    name = endpoint.split(".", 1)[-1]
    if name.startswith(("team", "member")):
        return Area.TEAM
    if "key" in name or "webhook" in name:
        return Area.INTEGRATION
    return Area.BUSINESS


def leaves_an_owner(roles_after: list[MemberRole]) -> bool:
    return MemberRole.OWNER in roles_after
