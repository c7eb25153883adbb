// The API's refusals in the reader's language: a page shows t("err.<code>") when it knows the
// code, else the server's English message (js/i18n/errors.js holds the texts).
import "./i18n/errors.js";
import { t } from "./i18n.js";

export function describeError(err) {
  const key = `err.${err?.code}`;
  const text = t(key, err?.details ?? {});
  return text === key ? err?.message ?? String(err) : text;
}
