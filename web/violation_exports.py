"""The filtered violation list as a table for CSV/XLSX (web/exports.py): bilingual headers,
Chinese labels for rules, severities and states (the readers of these files are Chinese
offices), numbers as numbers."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from web.exports import Table

RULE_NAMES = {
    "R1": "无派车单出车", "R2": "非工作时间出车", "R3": "节假日出车", "R4": "未按规定停放",
    "R5": "越界", "R6": "超速", "R7": "设备离线/断电", "R8": "长时间停留", "R9": "敏感区域停留",
    "R10": "绕道/里程异常", "R13": "轨迹与审批不符", "R14": "应急补单超时", "R16": "疲劳驾驶",
    "R17": "疑似公车私用", "PUBLIC": "群众举报",
}
SEVERITY_NAMES = {"info": "提示", "warn": "提醒", "alarm": "预警"}
STATE_NAMES = {
    "open": "待处理", "auto_closed": "自动关闭", "retracted": "已撤销",
    "awaiting_explanation": "待说明", "overdue": "逾期未说明", "under_review": "审核中",
    "dismissed": "不予认定", "confirmed": "已认定", "rectified": "已整改", "closed": "已办结",
    "referred": "已移交纪检",
}
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
HEADERS = (
    "编号 (id)", "规则 (rule)", "规则名称 (rule name)", "等级 (severity)", "状态 (state)",
    "日期 (day)", "开始 (start)", "结束 (end)", "车牌 (plate)", "单位 (unit)", "城市 (city)",
    "驾驶员 (driver)", "说明 (message)", "里程 km", "时长 s (duration)", "说明期限 (due)",
)


def _local(value: Any) -> str:
    if value is None:
        return ""
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _number(summary: dict[str, Any], *names: str) -> float | None:
    for name in names:
        value = summary.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
    return None


def row_values(row: asyncpg.Record) -> list[Any]:
    summary = row["summary"] or {}
    message = row["message"] if isinstance(row["message"], dict) else {}
    return [
        row["id"], row["rule_id"], RULE_NAMES.get(row["rule_id"], row["rule_id"]),
        SEVERITY_NAMES.get(row["severity"], row["severity"]),
        STATE_NAMES.get(row["state"], row["state"]), row["local_day"].isoformat(),
        _local(row["started_at"]), _local(row["ended_at"]), row["plate"] or "",
        row["org_name_zh"], row["city_name_zh"] or "", row["driver_name"] or "",
        message.get("zh", ""), _number(summary, "km", "gnss_km", "dist_km"),
        _number(summary, "duration_s"),
        row["explanation_due"].isoformat() if row["explanation_due"] else "",
    ]


def violation_table(rows: list[asyncpg.Record]) -> Table:
    return Table("违规列表 Violations", HEADERS, [row_values(r) for r in rows])
