"""Automatic pre-checks when a trip request is submitted (domain-research.md b.1). Pure code.

- 用车制度: the car class wanted must be one the governing policy allows; otherwise the
  submission is refused and the request stays a draft.
- 车补: an applicant who receives a transport subsidy and asks for an ordinary (公务) trip
  inside their own city gets a warning the approver sees — the subsidy is meant to pay for it.
- Approval levels: the policy's base, plus cross-city / night / holiday levels, with the reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from dispatch.trip_requests import ApprovalPolicy, TripRequest, TripType, approval_levels

MAX_LEVELS = 9  # the database's bound on approval_levels

CAR_LEVEL_NAMES = {"sedan": "轿车 sedan", "business": "商务车 business", "minibus": "中巴 minibus",
                   "bus": "大巴 bus"}


class PrecheckRefused(Exception):
    """The request may not be submitted as it is (it stays a draft)."""

    def __init__(self, code: str, message: str, details: dict) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


@dataclass(frozen=True)
class PrecheckResult:
    approval_levels: int
    approval_reasons: tuple[str, ...]  # cross_city, night, holiday
    warnings: tuple[str, ...]  # transport_subsidy


def precheck(
    request: TripRequest, car_level_wanted: str | None, policy: ApprovalPolicy,
    applicant_has_subsidy: bool, is_working_day: Callable[[date], bool],
) -> PrecheckResult:
    """The outcome of the pre-checks; PrecheckRefused when the request may not go on."""
    allowed = policy.allowed_car_levels
    if allowed is not None and car_level_wanted is not None and car_level_wanted not in allowed:
        names = "、".join(CAR_LEVEL_NAMES.get(level, level) for level in sorted(allowed))
        raise PrecheckRefused(
            "car_level_not_allowed",
            f"用车制度不允许申请该车型 / The car class '{car_level_wanted}' is not allowed for this "
            f"trip; allowed: {names}.",
            {"car_level_wanted": car_level_wanted, "allowed_car_levels": sorted(allowed)},
        )
    levels, reasons = approval_levels(request, policy, is_working_day)
    # Only what added a level explains the levels (a policy may make a cross-city trip free).
    extra = {"cross_city": policy.cross_city_extra, "night": policy.night_extra,
             "holiday": policy.holiday_extra}
    reasons = [reason for reason in reasons if extra.get(reason, 1) > 0]
    warnings = ("transport_subsidy",) if subsidy_warning(request, applicant_has_subsidy) else ()
    return PrecheckResult(min(levels, MAX_LEVELS), tuple(reasons), warnings)


def subsidy_warning(request: TripRequest, applicant_has_subsidy: bool) -> bool:
    """车补: a subsidised applicant asking for an ordinary trip that stays in their city."""
    in_city = bool(request.home_city) and all(
        city == request.home_city for city in request.destination_cities)
    return applicant_has_subsidy and request.trip_type == TripType.OFFICIAL and in_city
