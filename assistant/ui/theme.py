"""Look and locale: a Gradio theme with system fonts (Gradio's default loads Google Fonts), the
page's CSS, and a middleware that serves the Gradio page as Swedish (`<html lang="sv">`, and
Gradio's own labels in Swedish whatever the browser's language)."""
from __future__ import annotations

SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]

# contrast on white: #1f2937 14.7:1, #374151 10.3:1, #4b5563 7.6:1, #1d4ed8 6.7:1
TEXT, TEXT_SOFT, LINK, LINK_HOVER = "#1f2937", "#4b5563", "#1d4ed8", "#1e3a8a"


def theme():
    import gradio as gr  # here, so the document view and the CLI need no Gradio

    return gr.themes.Default(primary_hue="blue", neutral_hue="slate", font=SYSTEM_FONTS, font_mono=MONO_FONTS).set(
        body_text_color=TEXT, body_text_color_subdued=TEXT_SOFT, block_label_text_color="#374151",
        block_title_text_color="#1f2937", input_placeholder_color="#5b6472", link_text_color=LINK,
        link_text_color_hover=LINK_HOVER, link_text_color_visited="#5b21b6", button_primary_background_fill=LINK,
        button_primary_background_fill_hover=LINK_HOVER, button_primary_text_color="#ffffff",
        button_secondary_text_color=TEXT, button_secondary_background_fill="#eef2f7",
        button_secondary_background_fill_hover="#dde5f0", body_text_color_dark="#f3f4f6",
        body_text_color_subdued_dark="#cbd5e1", link_text_color_dark="#93c5fd", link_text_color_hover_dark="#bfdbfe",
        button_primary_background_fill_dark="#1d4ed8", button_primary_text_color_dark="#ffffff")


# Runs before Gradio's own script: Gradio picks its interface language from the browser's, and
# this is a Swedish service. Then: [n] previews open on a first tap on touch screens.
HEAD_SCRIPT = """<script>
(function () {
  try {
    Object.defineProperty(Navigator.prototype, "language", {get: function () { return "sv-SE"; }, configurable: true});
    Object.defineProperty(Navigator.prototype, "languages", {get: function () { return ["sv-SE", "sv"]; },
                                                            configurable: true});
  } catch (e) {}
  document.addEventListener("click", function (e) {
    var a = e.target && e.target.closest ? e.target.closest("a.ra-cite") : null;
    document.querySelectorAll("a.ra-cite.ra-open").forEach(function (o) {
      if (o !== a) o.classList.remove("ra-open");
    });
    if (a && window.matchMedia("(hover: none)").matches && !a.classList.contains("ra-open")) {
      e.preventDefault();
      a.classList.add("ra-open");
    }
  }, true);
  // a preview is placed in the viewport (position: fixed), so no scrolling panel clips it
  function place(a) {
    var pv = a && a.querySelector(".ra-pv");
    if (!pv) return;
    var r = a.getBoundingClientRect(), w = Math.min(352, window.innerWidth - 16);
    pv.style.width = w + "px";
    pv.style.left = Math.max(8, Math.min(r.left, window.innerWidth - w - 8)) + "px";
    var below = r.bottom + 6, h = pv.offsetHeight || 160;
    pv.style.top = (below + h > window.innerHeight - 8 ? Math.max(8, r.top - h - 6) : below) + "px";
  }
  // a preview opened by a tap closes when the page scrolls (it would float over other text)
  window.addEventListener("scroll", function () {
    document.querySelectorAll("a.ra-cite.ra-open").forEach(function (o) { o.classList.remove("ra-open"); });
    var hovered = document.querySelector("a.ra-cite:hover, a.ra-cite:focus-visible");
    if (hovered) place(hovered);
  }, {capture: true, passive: true});
  ["mouseover", "focusin", "click"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      var a = e.target && e.target.closest ? e.target.closest("a.ra-cite") : null;
      if (a) requestAnimationFrame(function () { place(a); });
    });
  });
  // Gradio names a few of its parts in English, and labels each message with its raw markup
  // ("user's message: <div …"): Swedish names, and no label on messages so they are read as text
  var NAMES = {"chatbot conversation": "Samtal", "Scroll down": "Rulla ned", "Loading response": "Hämtar svar",
               "Copy": "Kopiera", "Copied": "Kopierat", "Copied!": "Kopierat", "More tabs": "Fler flikar"};
  function relabel() {
    document.querySelectorAll("[aria-label], [title]").forEach(function (e) {
      ["aria-label", "title"].forEach(function (attr) {
        var v = e.getAttribute(attr);
        if (!v) return;
        if (NAMES[v]) e.setAttribute(attr, NAMES[v]);
        else if (v.indexOf("user's message") === 0 || v.indexOf("bot's message") === 0) e.removeAttribute(attr);
      });
    });
  }
  new MutationObserver(relabel).observe(document.documentElement,
    {subtree: true, childList: true, attributes: true, attributeFilter: ["aria-label", "title"]});
  // the library's upload form (an editor's): the file goes to POST /api/upload with a progress bar,
  // then the ingest job is followed until it is done; the list is refreshed after
  var UPLOAD_ERRORS = {401: "Logga in med en nyckel med rollen editor.", 403: "Nyckeln får inte ladda upp på den nivån.",
                       413: "Filen är för stor.", 503: "Servern är upptagen; försök igen om en stund."};
  function detail(xhr) {
    try { var d = JSON.parse(xhr.responseText).detail; return typeof d === "string" ? d : ""; } catch (e) { return ""; }
  }
  function follow(form, job) {
    var bar = form.querySelector("progress"), status = form.querySelector("[role=status]");
    var button = form.querySelector("button");
    function done(text) {
      status.textContent = text; button.disabled = false; bar.hidden = true;
      var refresh = document.querySelector("#ra-refresh"); if (refresh) refresh.click();
    }
    if (job.state === "done") {
      var r = job.result || {}, errors = r.errors || {}, names = Object.keys(errors);
      if (names.length && !(r.added || []).length && !(r.updated || []).length) {
        status.textContent = "Kunde inte läsas in: " + errors[names[0]]; button.disabled = false; bar.hidden = true;
        return;
      }
      var which = (r.added || []).concat(r.updated || []);
      return done(which.length ? "Klart: " + which.join(", ") + " är inläst." :
                  "Klart: dokumentet var redan inläst och oförändrat.");
    }
    if (job.state === "failed") {
      status.textContent = "Inläsningen misslyckades: " + (job.error || "okänt fel"); button.disabled = false;
      bar.hidden = true; return;
    }
    bar.value = 80 + (job.total ? Math.round(20 * job.done / job.total) : 0);
    status.textContent = job.state === "queued" ? "Väntar på sin tur …" : "Läser in …";
    setTimeout(function () {
      var x = new XMLHttpRequest();
      x.open("GET", "/api/jobs/" + encodeURIComponent(job.id));
      x.onload = function () {
        if (x.status === 200) follow(form, JSON.parse(x.responseText));
        else { status.textContent = UPLOAD_ERRORS[x.status] || "Jobbet kunde inte följas (" + x.status + ")."; button.disabled = false; }
      };
      x.onerror = function () { status.textContent = "Ingen kontakt med servern."; button.disabled = false; };
      x.send();
    }, 500);
  }
  document.addEventListener("change", function (e) {
    if (!e.target || e.target.id !== "ra-up-file") return;
    var name = document.getElementById("ra-up-name"), f = e.target.files && e.target.files[0];
    if (name) name.textContent = f ? f.name : "Ingen fil vald";
  }, true);
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form || form.id !== "ra-upload-form") return;
    e.preventDefault();
    var bar = form.querySelector("progress"), status = form.querySelector("[role=status]");
    var button = form.querySelector("button");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/upload");
    button.disabled = true; bar.hidden = false; bar.value = 0; status.textContent = "Laddar upp …";
    xhr.upload.onprogress = function (ev) { if (ev.lengthComputable) bar.value = Math.round(80 * ev.loaded / ev.total); };
    xhr.onload = function () {
      if (xhr.status === 200 || xhr.status === 202) { bar.value = 80; follow(form, JSON.parse(xhr.responseText)); return; }
      status.textContent = detail(xhr) || UPLOAD_ERRORS[xhr.status] || "Uppladdningen misslyckades (" + xhr.status + ").";
      button.disabled = false; bar.hidden = true;
    };
    xhr.onerror = function () { status.textContent = "Ingen kontakt med servern."; button.disabled = false; bar.hidden = true; };
    xhr.send(new FormData(form));
  }, true);
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    document.querySelectorAll("a.ra-cite.ra-open").forEach(function (o) { o.classList.remove("ra-open"); });
  });
})();
</script>"""

# After an answer: the top of the new answer in view (not its sources), focus back in the question box.
AFTER_ANSWER_JS = """() => {
  const questions = document.querySelectorAll('#ra-chat .ra-question');
  const last = questions[questions.length - 1];
  const row = last && (last.closest('.message-row') || last);
  if (row) row.scrollIntoView({block: 'start'});
  const box = document.querySelector('#ra-input textarea');
  if (box) box.focus({preventScroll: true});
}"""

FOCUS_INPUT_JS = "() => { const b = document.querySelector('#ra-input textarea'); if (b) b.focus(); }"


class SwedishPage:
    """ASGI middleware for the Gradio page at `/`: `lang="sv"` and HEAD_SCRIPT first in <head>.
    Compression is asked of nothing on that one path so the HTML can be read and rewritten."""

    def __init__(self, app, path: str = "/") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"])
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message):
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks)
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                if any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers):
                    body = rewrite(body.decode("utf-8")).encode("utf-8")
                await send({**start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, capture)


def rewrite(page: str) -> str:
    page = page.replace('lang="en"', 'lang="sv"', 1)
    # Gradio's template advertises itself with remote preview images: no page of ours points off the server
    page = "\n".join(line for line in page.split("\n") if "raw.githubusercontent.com" not in line)
    return page.replace("<head>", "<head>\n" + HEAD_SCRIPT + PAGE_CSS, 1)


# Rules for Gradio's own page frame: Gradio scopes the app's `css` to its content, so these go in <head>.
PAGE_CSS = """<style>
@media (max-width: 640px) { .gradio-container .main.fillable { padding-left: .5rem; padding-right: .5rem; } }
</style>"""


APP_CSS = """
:root { --ra-text: #1f2937; --ra-soft: #4b5563; --ra-link: #1d4ed8; --ra-line: #d1d5db; --ra-bg: #ffffff;
        --ra-tint: #f3f6fb; --ra-mark: #fde68a; }
.dark { --ra-text: #f3f4f6; --ra-soft: #cbd5e1; --ra-link: #93c5fd; --ra-line: #4b5563; --ra-bg: #111827;
        --ra-tint: #1f2937; --ra-mark: #854d0e; }
.gradio-container { max-width: 1400px !important; }
#ra-header h1 { font-size: 1.5rem; margin: 0; }
#ra-header p { margin: .2rem 0 0; color: var(--ra-soft); }
.ra-num { white-space: nowrap; font-variant-numeric: tabular-nums; }
.ra-nowrap { white-space: nowrap; }
.ra-r { text-align: right; }
.ra-answer, .ra-question, .ra-pending, .ra-error { color: var(--ra-text); line-height: 1.55; }
.ra-answer p { margin: 0 0 .6rem; }
.ra-scope, .ra-resolved { color: var(--ra-soft); font-size: .92rem; margin: 0 0 .35rem !important; }
.ra-resolved q { font-style: italic; }
.ra-h { font-size: 1rem; margin: .8rem 0 .3rem; }
.ra-more { font-size: .92rem; color: var(--ra-soft); }
.ra-sources { margin: 0; padding-left: 0; list-style: none; }
.ra-source { margin: .15rem 0; }
.ra-source summary { cursor: pointer; padding: .15rem 0; }
.ra-source-n { font-weight: 600; }
.ra-quote { margin: .35rem 0; padding: .4rem .7rem; border-left: 3px solid var(--ra-link); background: var(--ra-tint);
            white-space: pre-wrap; }
.ra-open { display: inline-block; margin: .2rem 0 .5rem; }
a.ra-cite { position: relative; font-weight: 600; text-decoration: none; padding: 0 .1rem; border-radius: 3px;
            color: var(--ra-link) !important; }
a.ra-cite:hover, a.ra-cite:focus-visible { text-decoration: underline; background: var(--ra-tint); }
.ra-pv { display: none; position: fixed; z-index: 1000; width: min(22rem, 78vw);
         padding: .55rem .7rem; background: var(--ra-bg); color: var(--ra-text); border: 1px solid var(--ra-line);
         border-radius: 6px; box-shadow: 0 6px 18px rgba(0,0,0,.18); font-weight: 400; font-size: .88rem;
         line-height: 1.4; white-space: normal; text-align: left; }
a.ra-cite:hover .ra-pv, a.ra-cite:focus-visible .ra-pv, a.ra-cite.ra-open .ra-pv { display: block; }
.ra-pv-label { display: block; font-weight: 600; margin-bottom: .25rem; }
.ra-pv-quote { display: block; }
.ra-pv-open { display: block; margin-top: .3rem; color: var(--ra-link); }
.ra-pending { display: flex; align-items: center; gap: .5rem; color: var(--ra-soft); }
.ra-spinner { width: .9rem; height: .9rem; border: 2px solid var(--ra-line); border-top-color: var(--ra-link);
              border-radius: 50%; animation: ra-spin .8s linear infinite; }
@keyframes ra-spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .ra-spinner { animation: none; } }
.ra-error { border-left: 4px solid #b91c1c; padding-left: .6rem; }
.ra-table-wrap { overflow-x: auto; max-width: 100%; }
.ra-quote-table, .ra-rows, .ra-library { border-collapse: collapse; margin: .35rem 0; font-size: .92rem; }
.ra-rows { width: 100%; }
.ra-quote-table th, .ra-quote-table td, .ra-rows th, .ra-rows td, .ra-library th, .ra-library td {
  border: 1px solid var(--ra-line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
.ra-quote-table td.ra-num, .ra-rows td.ra-r, .ra-library td.ra-r { text-align: right; }
.ra-rows caption, .ra-library caption { text-align: left; font-weight: 600; padding: .2rem 0; }
.ra-figure { border: 1px solid var(--ra-line); border-radius: 8px; padding: .8rem 1rem; margin: 0 0 .8rem;
             background: var(--ra-bg); color: var(--ra-text); }
.ra-figure-label { font-size: 1rem; margin: 0 0 .2rem; font-weight: 600; }
.ra-figure-value { font-size: 2rem; font-weight: 700; margin: .1rem 0 .4rem; line-height: 1.2; }
.ra-formula { margin: .2rem 0 .5rem; }
.ra-k { color: var(--ra-soft); }
.ra-empty { color: var(--ra-soft); }
.ra-chart-alt { color: var(--ra-soft); font-size: .9rem; margin: .2rem 0; }
#ra-chart .modebar-container { display: none !important; }  /* zoom/pan tools, named in English: not needed */
.ra-file { display: block; font-weight: 400; font-size: .85rem; color: var(--ra-soft); }
.ra-warn { font-weight: 700; color: #92400e; }
.ra-upload-note { color: var(--ra-soft); font-size: .92rem; }
.ra-upload { border: 1px solid #d1d5db; border-radius: .5rem; padding: .8rem 1rem; margin-top: .8rem; }
.ra-upload-fields { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: .5rem .8rem; align-items: center;
                    margin: .5rem 0; }
.ra-upload-fields input, .ra-upload-fields select { max-width: 100%; font: inherit; color: var(--ra-text); }
.ra-upload-fields select { padding: .25rem; border: 1px solid #6b7280; border-radius: .25rem; background: var(--ra-bg); }
.ra-upload-send { font: inherit; font-weight: 600; color: #fff; background: #1d4ed8; border: 0; border-radius: .4rem;
                  padding: .45rem 1.1rem; cursor: pointer; transition: none; opacity: 1; }
/* no transition: a colour caught between two states must never read below 4.5:1 */
.ra-upload-send:hover { background: #1e3a8a; } #ra-upload-form button.ra-upload-send:disabled { background: #4b5563; color: #fff; cursor: wait; opacity: 1; }
.ra-upload-send:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
.ra-file-input { position: absolute; width: 1px; height: 1px; opacity: 0; overflow: hidden; }
.ra-pick-row { display: flex; flex-wrap: wrap; gap: .3rem .7rem; align-items: center; min-width: 0; }
.ra-pick { display: inline-block; padding: .3rem .8rem; border: 1px solid #6b7280; border-radius: .4rem;
           background: #eef2f7; color: #1f2937; cursor: pointer; font-weight: 600; }
.ra-pick-row:focus-within .ra-pick { outline: 3px solid #1d4ed8; outline-offset: 2px; }
.ra-pick-row .ra-file { overflow-wrap: anywhere; }
.ra-upload progress { display: block; width: 100%; margin-top: .5rem; }
.ra-upload progress[hidden] { display: none; }
@media (max-width: 480px) { .ra-upload-fields { grid-template-columns: 1fr; } }
#ra-chat .message { max-width: 100%; }
/* Gradio dims bot messages to 0.8: links fell below 4.5:1 */
#ra-chat .prose { opacity: 1 !important; }
#ra-chat .placeholder-content { padding: 2rem 1.5rem; font-size: 1.05rem; color: var(--ra-soft); }
.ra-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
#ra-examples { gap: .5rem; flex-wrap: wrap; }
#ra-examples button { flex: 1 1 14rem; white-space: normal; text-align: left; }
.ra-h2 { font-size: 1.25rem; margin: .2rem 0 .4rem; }
#ra-send { min-width: 6rem; align-self: flex-end; }
@media (max-width: 640px) {
  .ra-figure-value { font-size: 1.6rem; }
  .ra-figure { padding: .6rem .6rem; }
  #ra-header h1 { font-size: 1.25rem; }
  #ra-header p { display: none; }
  .ra-rows, .ra-quote-table { font-size: .85rem; }
  .ra-rows th, .ra-rows td, .ra-quote-table th, .ra-quote-table td { padding: .25rem .3rem; }
}
"""

DOCUMENT_CSS = """
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1f2937;
       background: #fff; line-height: 1.5; }
a { color: #1d4ed8; } a:visited { color: #5b21b6; } a:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
.dv-header { padding: .8rem 1.2rem; border-bottom: 1px solid #d1d5db; }
.dv-header h1 { font-size: 1.35rem; margin: .3rem 0 0; }
.dv-meta { color: #4b5563; margin: .2rem 0; font-size: .92rem; }
.dv-skip { position: absolute; left: -9999px; } .dv-skip:focus { position: static; margin-right: 1rem; }
.dv-layout { display: grid; grid-template-columns: minmax(16rem, 26rem) 1fr; gap: 1.2rem; padding: 1rem 1.2rem; }
.dv-outline { font-size: .93rem; overflow-wrap: anywhere; position: sticky; top: 0; align-self: start;
              max-height: 100vh; overflow-y: auto; padding-right: .4rem; }
.dv-mk { color: #6b7280; }
.dv-tab { display: inline-block; min-width: 1.4em; margin-right: .55em; border-right: 1px solid #9ca3af;
          height: 1.1em; vertical-align: text-bottom; overflow: hidden; }
.dv-h { font-weight: 700; }
.dv-outline h2 { font-size: 1.05rem; margin: 1rem 0 .3rem; }
.dv-outline h3 { font-size: .95rem; margin: .6rem 0 .2rem; }
.dv-inline { display: inline; }
.dv-outline ul, .dv-outline ol { padding-left: 1.1rem; margin: .2rem 0; }
.dv-agenda { list-style: none; padding-left: 0 !important; }
.dv-group { font-weight: 600; color: #374151; margin-top: .4rem; }
.dv-num, .dv-page { white-space: nowrap; } .dv-page { color: #4b5563; }
.dv-dl { display: grid; grid-template-columns: auto 1fr; gap: .1rem .6rem; margin: 0; } .dv-dl dt { font-weight: 600; }
.dv-dl dd { margin: 0; }
.dv-text { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .97rem; max-width: 52rem; tab-size: 4; }
mark { background: #fde68a; color: #1f2937; padding: .1rem 0; scroll-margin-top: 30vh; outline: 2px solid #b45309; }
.dv-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.dv-anchor { scroll-margin-top: 1rem; }
@media (max-width: 800px) { .dv-layout { grid-template-columns: 1fr; }
  .dv-outline { order: 2; position: static; max-height: none; } }
"""
