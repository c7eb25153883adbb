// UI text in zh-CN (default) and English. Static elements carry data-i18n="key"
// (or data-i18n-placeholder / data-i18n-title); dynamic code calls t(key, params).

const STORAGE_KEY = "fleet.lang";

const MESSAGES = {
  "zh-CN": {
    "app.name": "公务用车服务平台",
    "app.console": "实时监控",
    "app.subtitle": "武汉都市圈 · 公务用车监管",
    "login.title": "用户登录",
    "login.username": "用户名",
    "login.password": "密码",
    "login.submit": "登录",
    "login.busy": "正在登录…",
    "login.failed": "用户名或密码错误",
    "login.throttled": "登录失败次数过多，请稍后再试",
    "login.error": "登录失败：{message}",
    "login.notice": "仅限授权人员使用，操作全程留痕",
    "lang.switch": "English",
    "top.logout": "退出",
    "top.scope": "数据范围",
    "conn.connecting": "连接中…",
    "conn.live": "实时",
    "conn.reconnecting": "重连中（{s} 秒）",
    "conn.offline": "已断开",
    "status.all": "全部",
    "status.moving": "行驶",
    "status.idle": "怠速",
    "status.parked": "停放",
    "status.offline": "离线",
    "status.no_data": "无数据",
    "filter.city": "全部城市",
    "filter.source": "全部来源",
    "filter.search": "搜索车牌",
    "list.plate": "车牌",
    "list.city": "城市",
    "list.source": "来源",
    "list.speed": "时速",
    "list.age": "更新",
    "list.empty": "没有符合条件的车辆",
    "list.loading": "正在加载车辆…",
    "list.count": "{shown} / {total} 辆",
    "list.forbidden": "当前账号无车辆监控权限",
    "source.platform": "平台",
    "source.entrusted": "托管",
    "source.unit_retained": "保留",
    "source.leased": "租赁",
    "category.confidential": "机要通信",
    "category.emergency": "应急保障",
    "category.law_enforcement": "执法执勤",
    "category.special_technical": "特种专业技术",
    "category.general": "其他",
    "level.sedan": "轿车",
    "level.business": "商务车",
    "level.minibus": "中巴",
    "level.bus": "大巴",
    "energy.fuel": "燃油",
    "energy.bev": "纯电动",
    "energy.phev": "插电混动",
    "device.online": "在线",
    "device.offline": "离线",
    "device.unknown": "未知",
    "details.title": "车辆详情",
    "details.close": "关闭",
    "details.category": "用途类别",
    "details.source": "车辆来源",
    "details.level": "车型",
    "details.seats": "座位",
    "details.energy": "能源",
    "details.model": "品牌型号",
    "details.device": "终端",
    "details.odometer": "里程表",
    "details.fuel": "油量",
    "details.soc": "电量",
    "details.speed": "速度",
    "details.heading": "方向",
    "details.acc": "ACC",
    "details.acc_on": "点火",
    "details.acc_off": "熄火",
    "details.last_fix": "最后定位",
    "details.position": "位置",
    "details.owner": "产权单位",
    "details.depot": "所属车队",
    "details.rental": "租赁公司",
    "details.track": "轨迹",
    "details.track_hours": "{h} 小时",
    "details.track_summary": "{points} 个点 · {km} 公里",
    "details.track_summary_one": "1 个点 · {km} 公里",
    "details.track_none": "该时段无轨迹",
    "details.track_loading": "正在加载轨迹…",
    "details.withheld": "机要车辆，位置保密",
    "details.seats_value": "{n} 座",
    "details.error": "加载失败：{message}",
    "age.s": "{n} 秒前",
    "age.m": "{n} 分钟前",
    "age.h": "{n} 小时前",
    "age.d": "{n} 天前",
    "age.never": "—",
    "unit.kmh": "km/h",
    "legend.title": "图例",
    "layers.boundaries": "市界",
    "layers.lots": "定点停放",
    "layers.zones": "敏感区域",
    "map.fit": "全部车辆",
  },
  en: {
    "app.name": "Official Vehicle Platform",
    "app.console": "Live monitoring",
    "app.subtitle": "Wuhan metropolitan circle · fleet supervision",
    "login.title": "Sign in",
    "login.username": "Username",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.busy": "Signing in…",
    "login.failed": "Wrong username or password",
    "login.throttled": "Too many failed attempts; try again later",
    "login.error": "Sign-in failed: {message}",
    "login.notice": "Authorised personnel only; all actions are audited",
    "lang.switch": "中文",
    "top.logout": "Sign out",
    "top.scope": "Scope",
    "conn.connecting": "Connecting…",
    "conn.live": "Live",
    "conn.reconnecting": "Reconnecting ({s} s)",
    "conn.offline": "Disconnected",
    "status.all": "All",
    "status.moving": "Moving",
    "status.idle": "Idle",
    "status.parked": "Parked",
    "status.offline": "Offline",
    "status.no_data": "No data",
    "filter.city": "All cities",
    "filter.source": "All sources",
    "filter.search": "Search plate",
    "list.plate": "Plate",
    "list.city": "City",
    "list.source": "Source",
    "list.speed": "km/h",
    "list.age": "Updated",
    "list.empty": "No vehicles match the filters",
    "list.loading": "Loading vehicles…",
    "list.count": "{shown} / {total} vehicles",
    "list.forbidden": "This account may not monitor vehicles",
    "source.platform": "Platform",
    "source.entrusted": "Entrusted",
    "source.unit_retained": "Retained",
    "source.leased": "Leased",
    "category.confidential": "Confidential",
    "category.emergency": "Emergency",
    "category.law_enforcement": "Law enforcement",
    "category.special_technical": "Special technical",
    "category.general": "General",
    "level.sedan": "Sedan",
    "level.business": "Business van",
    "level.minibus": "Minibus",
    "level.bus": "Bus",
    "energy.fuel": "Fuel",
    "energy.bev": "Battery EV",
    "energy.phev": "Plug-in hybrid",
    "device.online": "online",
    "device.offline": "offline",
    "device.unknown": "unknown",
    "details.title": "Vehicle details",
    "details.close": "Close",
    "details.category": "Use category",
    "details.source": "Source",
    "details.level": "Class",
    "details.seats": "Seats",
    "details.energy": "Energy",
    "details.model": "Make/model",
    "details.device": "Device",
    "details.odometer": "Odometer",
    "details.fuel": "Fuel",
    "details.soc": "Charge",
    "details.speed": "Speed",
    "details.heading": "Heading",
    "details.acc": "Ignition",
    "details.acc_on": "on",
    "details.acc_off": "off",
    "details.last_fix": "Last fix",
    "details.position": "Position",
    "details.owner": "Owner",
    "details.depot": "Depot",
    "details.rental": "Rental company",
    "details.track": "Track",
    "details.track_hours": "{h} h",
    "details.track_summary": "{points} points · {km} km",
    "details.track_summary_one": "1 point · {km} km",
    "details.track_none": "No track in this period",
    "details.track_loading": "Loading track…",
    "details.withheld": "Confidential vehicle: position withheld",
    "details.seats_value": "{n} seats",
    "details.error": "Could not load: {message}",
    "age.s": "{n} s ago",
    "age.m": "{n} min ago",
    "age.h": "{n} h ago",
    "age.d": "{n} d ago",
    "age.never": "—",
    "unit.kmh": "km/h",
    "legend.title": "Legend",
    "layers.boundaries": "City limits",
    "layers.lots": "Designated lots",
    "layers.zones": "Sensitive zones",
    "map.fit": "All vehicles",
  },
};

const listeners = new Set();
let lang = localStorage.getItem(STORAGE_KEY) === "en" ? "en" : "zh-CN";

export function currentLang() {
  return lang;
}

export function t(key, params = {}) {
  const text = MESSAGES[lang][key] ?? MESSAGES["zh-CN"][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

/** A localised name from an object with name_zh / name_en. */
export function localName(obj) {
  if (!obj) return "";
  return lang === "en" ? obj.name_en || obj.name_zh : obj.name_zh || obj.name_en;
}

export function applyI18n(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

export function setLang(next) {
  lang = next === "en" ? "en" : "zh-CN";
  localStorage.setItem(STORAGE_KEY, lang);
  applyI18n();
  for (const listener of listeners) listener(lang);
}

export function toggleLang() {
  setLang(lang === "en" ? "zh-CN" : "en");
}

export function onLangChange(listener) {
  listeners.add(listener);
}
