"""Places for the map picker: cities, the city a point lies in, named places (常用地点)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class CityRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"code": "420700", "name_zh": "鄂州", "name_en": "Ezhou"}]})
    code: str
    name_zh: str
    name_en: str


class CityCentreRead(CityRead):
    centre_lat: float
    centre_lon: float


class PlaceRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "code": "PL-420700-GOV", "city_code": "420700", "kind": "government",
        "name_zh": "鄂州市人民政府", "name_en": "Ezhou Municipal Government",
        "lat": 30.396, "lon": 114.89, "city_name_zh": "鄂州", "city_name_en": "Ezhou"}]})
    code: str
    city_code: str
    kind: str
    name_zh: str
    name_en: str
    lat: float
    lon: float
    city_name_zh: str
    city_name_en: str
