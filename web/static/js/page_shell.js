// The top bar every page shares: brand, the pages this user may open (from /api/v1/auth/me),
// the language switch, the user's name and sign-out. A page calls startPage() first.
import { api } from "./api.js";
import { el } from "./dom.js";
import { applyI18n, localName, onLangChange, t, toggleLang } from "./i18n.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

export function renderNav(me) {
  const nav = $("nav");
  if (!nav) return;
  nav.replaceChildren();
  for (const path of me.pages ?? []) {
    const key = path.replace(/^\//, "").replace(/[/-]/g, "_");
    const link = el("a", {
      class: "nav-link",
      href: path,
      "data-testid": `nav-${key}`,
      text: t(`nav.${key}`),
    });
    if (window.location.pathname === path) link.setAttribute("aria-current", "page");
    nav.append(link);
  }
}

function renderUser(me) {
  const name = $("user-name");
  if (name) name.textContent = me.display_name;
  const scope = $("scope-name");
  if (scope) scope.textContent = localName(me.scope_org);
}

/** Applies the language, wires the top bar and returns the logged-in user (or goes to /login). */
export async function startPage() {
  applyI18n();
  $("lang-toggle")?.addEventListener("click", toggleLang);
  $("logout")?.addEventListener("click", async () => {
    await api("/api/v1/auth/logout", { method: "POST", redirectOn401: false }).catch(() => null);
    window.location.assign("/login");
  });
  const me = await api("/api/v1/auth/me");
  renderNav(me);
  renderUser(me);
  onLangChange(() => {
    renderNav(me);
    renderUser(me);
  });
  return me;
}
