// Texts of the approver's page (用车审批).
import { registerMessages } from "../i18n.js";
import "./trip_workflow.js";

registerMessages({
  "zh-CN": {
    "ap.awaiting": "待我审批",
    "ap.decided": "我已审批",
    "ap.pick": "请从左侧选择一条申请",
    "ap.none": "暂无待审批的申请",
    "ap.none_decided": "暂无审批记录",
    "ap.options": "要求",
    "ap.levels": "审批进度",
    "ap.pin_origin": "起",
    "ap.timeline": "办理记录",
    "ap.note": "审批意见（驳回时必填）",
    "ap.note_hint": "如：同意；或驳回理由",
    "ap.approve": "同意",
    "ap.reject": "驳回",
    "ap.reason_required": "驳回须填写理由",
    "ap.approved": "已同意申请 #{id}（第 {level}/{total} 级）",
    "ap.rejected": "已驳回申请 #{id}",
    "ap.extra_levels_note": "本申请因{reasons}需 {total} 级审批",
  },
  en: {
    "ap.awaiting": "Awaiting my approval",
    "ap.decided": "Decided by me",
    "ap.pick": "Choose a request on the left",
    "ap.none": "Nothing awaits your approval",
    "ap.none_decided": "You have not decided any request yet",
    "ap.options": "Options",
    "ap.levels": "Approval",
    "ap.pin_origin": "S",
    "ap.timeline": "History",
    "ap.note": "Comment (required to reject)",
    "ap.note_hint": "e.g. approved; or why you reject it",
    "ap.approve": "Approve",
    "ap.reject": "Reject",
    "ap.reason_required": "A rejection needs a reason",
    "ap.approved": "Request #{id} approved (level {level} of {total})",
    "ap.rejected": "Request #{id} rejected",
    "ap.extra_levels_note": "{total} approval levels because of: {reasons}",
  },
});
