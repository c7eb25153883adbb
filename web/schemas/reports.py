"""Report schemas: figures (统计), rental and unit statements (对账单), billing runs (结算)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class FigureRow(BaseModel):
    key: str = Field(description="vehicle id, unit id, city code or company id (as text)")
    name_zh: str | None
    name_en: str | None
    city_code: str | None
    energy_type: str | None = Field(description="per vehicle only")
    car_level: str | None
    source: str | None
    trips: int = Field(description="出车次数: orders that departed and came back in the month")
    service_h: float = Field(description="Σ (returned − departed) of those orders")
    billed_km: float = Field(description="Σ billed km (odometer, else GNSS); a unit: its ride km")
    gnss_km: float = Field(description="Σ GNSS km of the group's vehicles' trips in the month")
    cost_cny: float = Field(description="rental fees + platform cars' tolls, parking, fuel")
    rental_cny: float = Field(description="rental spend")
    cost_per_km: float | None
    response_median_min: float | None = Field(description="派车响应时长: median assigned − approved")
    vehicles: int
    nev_vehicles: int
    nev_share: float | None = Field(description="new-energy (BEV, PHEV) share of the vehicles")
    fleet_h: float = Field(description="hours of the group's vehicles' orders")
    utilisation: float | None = Field(description="fleet_h ÷ (vehicles × working days × 8 h)")
    fuel_l_per_100km: float | None
    kwh_per_100km: float | None
    approved_requests: int
    fulfilled_requests: int
    fulfilment_rate: float | None = Field(description="满足率: fulfilled ÷ approved")


class RankingRow(BaseModel):
    rank: int
    vehicle_id: int
    plate: str
    city_code: str
    car_level: str
    energy_type: str
    km: float
    energy: float = Field(description="litres (fuel cars) or kWh (BEVs)")
    per_100km: float


class Ranking(BaseModel):
    fuel: list[RankingRow] = Field(description="L/100 km, best first")
    electric: list[RankingRow] = Field(description="kWh/100 km, best first")


class FiguresRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "month": "2026-11", "by": "city", "working_days": 21, "available_h_per_vehicle": 168,
        "rows": [], "totals": None, "ranking": {"fuel": [], "electric": []},
        "computed_at": "2026-12-01T09:00:00+08:00"}]})
    month: str
    by: str
    working_days: int
    available_h_per_vehicle: int
    rows: list[FigureRow]
    totals: FigureRow | None
    ranking: Ranking
    computed_at: datetime


class NamedRef(BaseModel):
    id: int
    name_zh: str
    name_en: str


class CompanyRef(NamedRef):
    code: str


class RentalOrderLine(BaseModel):
    order_id: int
    service_date: date
    departed_at: datetime
    returned_at: datetime
    units: list[NamedRef]
    plate: str | None
    driver_name: str | None
    car_level: str
    charter_type: str
    mode: str
    billed_km: float | None
    billed_hours: float
    lines: dict[str, float] = Field(description="amount per fee code (0 when absent)")
    fee_cny: float
    state: str


class RentalTotals(BaseModel):
    orders: int
    billed_km: float
    billed_hours: float
    lines: dict[str, float]
    fee_cny: float


class CompanyStatement(BaseModel):
    company: CompanyRef
    orders: list[RentalOrderLine]
    totals: RentalTotals


class RentalStatementRead(BaseModel):
    month: str
    fee_codes: list[str]
    companies: list[CompanyStatement]
    fee_cny: float


class UnitLine(BaseModel):
    unit_id: int
    code: str
    name_zh: str
    name_en: str
    city_code: str | None
    city_name_zh: str | None
    city_name_en: str | None
    requests: int
    orders: int
    passengers: int
    ride_km: float
    rental_cny: float = Field(description="its shares of rental fees")
    direct_cny: float = Field(description="its shares of platform cars' tolls, parking, fuel")
    total_cny: float


class UnitTotals(BaseModel):
    units: int
    requests: int
    ride_km: float
    rental_cny: float
    direct_cny: float
    total_cny: float


class UnitStatementRead(BaseModel):
    month: str
    units: list[UnitLine]
    totals: UnitTotals


class BillingRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"month": "2026-11"},
                                                              {"month": "2026-11", "company_id": 1}]})
    month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM (Asia/Shanghai)")
    company_id: int | None = Field(None, ge=1, le=2**31 - 1, description="only this company's orders")


class BillingRunRead(BaseModel):
    month: str
    company_id: int | None
    orders_settled: int
    requests_settled: int
    rental_fee_cny: float
    direct_cost_cny: float
    total_cny: float
