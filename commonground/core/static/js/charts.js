/*
 * Common Ground: draw SPC charts (improvement/includes/chart.html).
 *
 * Every <figure data-chart-spec="ID"> gets the Vega-Lite spec from the
 * <script type="application/json" id="ID"> that Django's json_script wrote, and the chart is
 * drawn as SVG into the figure's .chart-canvas. Runs on DOMContentLoaded and after every htmx
 * swap; a figure is drawn once (data-chart-rendered marks it).
 *
 * The include wraps that script in a <template> inside the figure: with allowScriptTags: false
 * htmx removes every <script> element (JSON ones included) from swapped-in HTML, but it does
 * not look inside a template's content. A script found in the document itself works too.
 *
 * Content Security Policy (script-src 'self'; style-src 'self'): no eval and no inline styles.
 *  - ast: true makes Vega parse expressions into syntax trees, evaluated by the vega-interpreter
 *    that vega-embed bundles, instead of compiling them with the Function constructor.
 *  - defaultStyle: false stops vega-embed injecting a <style> element, and
 *    tooltip.disableDefaultStyle does the same for the tooltip; both styles live in app.css.
 *
 * Needs vega.min.js, vega-lite.min.js and vega-embed.min.js loaded first (all with defer).
 * The text in the figure (sentences and data table) is the accessible version of the chart, so
 * a chart that fails to draw only loses the picture.
 */
(function () {
  "use strict";

  var RENDERED = "data-chart-rendered";
  var views = new WeakMap();

  function options() {
    var opts = {
      ast: true,
      actions: false,
      renderer: "svg",
      defaultStyle: false,
      tooltip: { theme: "light", disableDefaultStyle: true },
    };
    // A separately loaded vega-interpreter (window.vegaInterpreter) is used if present;
    // otherwise vega-embed falls back to the copy it bundles.
    if (window.vegaInterpreter && window.vegaInterpreter.expressionInterpreter) {
      opts.expr = window.vegaInterpreter.expressionInterpreter;
    }
    return opts;
  }

  function findSpec(figure, id) {
    var found = id ? document.getElementById(id) : null;
    var templates = figure.querySelectorAll("template");
    for (var i = 0; !found && i < templates.length; i += 1) {
      found = templates[i].content.getElementById(id);
    }
    return found;
  }

  function render(figure) {
    if (figure.hasAttribute(RENDERED)) {
      return;
    }
    var canvas = figure.querySelector(".chart-canvas");
    var source = findSpec(figure, figure.getAttribute("data-chart-spec"));
    if (!canvas || !source || typeof window.vegaEmbed !== "function") {
      return;
    }
    var spec;
    try {
      spec = JSON.parse(source.textContent);
    } catch (error) {
      figure.setAttribute(RENDERED, "error");
      return;
    }
    figure.setAttribute(RENDERED, "pending");
    window
      .vegaEmbed(canvas, spec, options())
      .then(function (result) {
        views.set(figure, result.view);
        figure.setAttribute(RENDERED, "true");
      })
      .catch(function (error) {
        figure.setAttribute(RENDERED, "error");
        figure.classList.add("chart-failed");
        if (window.console) {
          window.console.error("Chart could not be drawn", error);
        }
      });
  }

  function renderAll() {
    var figures = document.querySelectorAll("figure[data-chart-spec]:not([" + RENDERED + "])");
    Array.prototype.forEach.call(figures, render);
  }

  // Free a chart's Vega view (timers, listeners) when htmx removes its figure.
  function cleanUp(event) {
    var element = event.target;
    if (element && element.matches && element.matches("figure[data-chart-spec]")) {
      var view = views.get(element);
      if (view) {
        view.finalize();
        views.delete(element);
      }
    }
  }

  function start() {
    renderAll();
    document.body.addEventListener("htmx:afterSettle", renderAll);
    document.body.addEventListener("htmx:beforeCleanupElement", cleanUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
