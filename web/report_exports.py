"""Statements (对账单) as tables for CSV and XLSX: Chinese headers with English in brackets,
Chinese names for car levels, charter types, modes and states (the people who file these
statements read Chinese)."""

from __future__ import annotations

from web.exports import Table

LEVEL_ZH = {"sedan": "轿车", "business": "商务车", "minibus": "中巴", "bus": "大巴"}
CHARTER_ZH = {"trip": "趟", "half_day": "半日", "full_day": "整日", "multi_day": "多日"}
MODE_ZH = {"with_driver": "车+驾", "car_only": "仅车"}
STATE_ZH = {"returned": "已回场", "disputed": "有异议", "confirmed": "已确认", "rated": "已评价",
            "settled": "已结算"}
FEE_HEADERS = {
    "base": "基本费 (base)", "overtime": "超时费 (overtime)", "over_km": "超公里费 (over km)",
    "night": "夜间服务费 (night)", "out_of_town": "异地补助 (out of town)",
    "tolls": "通行费 (tolls)", "parking": "停车费 (parking)", "fuel": "燃油费 (fuel)",
    "late_penalty": "迟到扣款 (late penalty)",
}
TOTAL_ZH = "合计 (total)"


def rental_tables(statement: dict) -> list[Table]:
    codes = statement["fee_codes"]
    headers = ["租赁公司 (company)", "派车单号 (order)", "日期 (date)", "用车单位 (units)",
               "车牌 (plate)", "驾驶员 (driver)", "车型 (car level)", "包车类型 (charter)",
               "服务方式 (mode)", "计费里程 km (billed km)", "计费时长 h (billed hours)",
               *[FEE_HEADERS[c] for c in codes], "费用合计 元 (total CNY)", "状态 (state)"]
    tables = []
    for part in statement["companies"]:
        company = part["company"]["name_zh"]
        rows: list[list] = [
            [company, o["order_id"], o["service_date"].isoformat(),
             "、".join(u["name_zh"] for u in o["units"] or []), o["plate"], o["driver_name"],
             LEVEL_ZH.get(o["car_level"], o["car_level"]),
             CHARTER_ZH.get(o["charter_type"], o["charter_type"]), MODE_ZH.get(o["mode"], o["mode"]),
             o["billed_km"], o["billed_hours"], *[o["lines"][c] for c in codes], o["fee_cny"],
             STATE_ZH.get(o["state"], o["state"])]
            for o in part["orders"]
        ]
        totals = part["totals"]
        rows.append([company, TOTAL_ZH, f"{totals['orders']} 单", "", "", "", "", "", "",
                     totals["billed_km"], totals["billed_hours"],
                     *[totals["lines"][c] for c in codes], totals["fee_cny"], ""])
        tables.append(Table(company, headers, rows, total_rows=1))
    return tables or [Table("对账单", headers, [])]


def unit_tables(statement: dict) -> list[Table]:
    headers = ["单位 (unit)", "单位编码 (code)", "城市 (city)", "用车申请 (requests)",
               "派车单 (orders)", "乘车人次 (passengers)", "乘车里程 km (ride km)",
               "租车费分摊 元 (rental share CNY)", "直接费用分摊 元 (direct costs CNY)",
               "合计 元 (total CNY)"]
    rows: list[list] = [
        [u["name_zh"], u["code"], u["city_name_zh"], u["requests"], u["orders"], u["passengers"],
         u["ride_km"], u["rental_cny"], u["direct_cny"], u["total_cny"]]
        for u in statement["units"]
    ]
    t = statement["totals"]
    rows.append([TOTAL_ZH, "", "", t["requests"], "", "", t["ride_km"], t["rental_cny"],
                 t["direct_cny"], t["total_cny"]])
    return [Table(f"单位对账单 {statement['month']}", headers, rows, total_rows=1)]
