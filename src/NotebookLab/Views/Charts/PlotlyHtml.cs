using System.Reflection;
using System.Text;
using Plotly.NET;

namespace NotebookLab.Views.Charts;

/// <summary>How the interactive rendition gets plotly.js.</summary>
public enum PlotlyJsSource
{
    /// <summary>Use <c>window.Plotly</c> if present, else require.js if present, else inject one script tag from the CDN.</summary>
    Cdn,
    /// <summary>Embed plotly.js (from Plotly.NET's embedded resource, ~3.6 MB) in the first chart of the session; no network needed.</summary>
    Offline,
}

/// <summary>
/// The HTML of a chart: the static SVG first (what shows where scripts do not run), then a div and a small
/// loader that draws the interactive plotly.js chart and hides the static one once plotly.js is available.
/// plotly.js is loaded once per page: an existing <c>window.Plotly</c> is reused, require.js is used where the
/// page has it (classic Jupyter), and otherwise a single script tag is injected and shared by every chart.
/// </summary>
public static class PlotlyHtml
{
    public static string PlotlyJsVersion => "2.28.0";
    public static string CdnUrl => $"https://cdn.plot.ly/plotly-{PlotlyJsVersion}.min.js";

    /// <summary>Where plotly.js comes from (default: CDN). Set to <see cref="PlotlyJsSource.Offline"/> for classrooms without internet.</summary>
    public static PlotlyJsSource Source
    {
        get => source;
        set { source = value; offlineEmitted = false; }
    }
    static PlotlyJsSource source = PlotlyJsSource.Cdn;
    static bool offlineEmitted;
    static readonly object Gate = new();

    /// <summary>Embed plotly.js into the next chart shown (for offline use); later charts reuse it.</summary>
    public static void UseOffline() => Source = PlotlyJsSource.Offline;

    /// <summary>The chart's HTML: <paramref name="staticSvg"/> (may be null) plus the interactive loader.</summary>
    public static string Render(GenericChart chart, string? staticSvg, int width, int height)
    {
        var figure = GenericChart.toFigureJson(chart);
        // The id comes from the content, so a notebook run twice gives the same output (the same chart shown twice
        // in one page shares it: the loader draws every element with that id).
        var id = Html.ContentId("nl-plot-", $"{width}x{height}:{figure}");
        var sb = new StringBuilder();
        sb.Append($"<div class=\"nl-chart\" style=\"max-width:100%;overflow-x:auto\">");
        if (staticSvg is not null)
            sb.Append($"<div class=\"nl-chart-static\" id=\"{id}-static\">").Append(staticSvg).Append("</div>");
        sb.Append($"<div class=\"nl-chart-interactive\" id=\"{id}\" style=\"width:{width}px;height:{height}px;display:none\"></div>");
        if (NeedsOfflineBundle()) AppendOfflinePlotly(sb);
        sb.Append("<script type=\"text/javascript\">").Append(LoaderScript(id, figure)).Append("</script>");
        sb.Append("</div>");
        return sb.ToString();
    }

    static bool NeedsOfflineBundle()
    {
        if (Source != PlotlyJsSource.Offline) return false;
        lock (Gate)
        {
            if (offlineEmitted) return false;
            offlineEmitted = true;
            return true;
        }
    }

    internal static string LoaderScript(string id, string figureJson)
    {
        // JSON is valid JavaScript; "</" is escaped so the data cannot close the script element.
        var fig = figureJson.Replace("</", "<\\/");
        return $$"""
(function () {
  var fig = {{fig}};
  var id = "{{id}}";
  function draw(Plotly) {
    if (!Plotly) return;
    document.querySelectorAll('[id="' + id + '"]').forEach(function (el) {
      if (el.getAttribute("data-nl-drawn")) return;
      el.setAttribute("data-nl-drawn", "1");
      el.style.display = "block";
      Plotly.newPlot(el, fig.data, fig.layout, {responsive: true, displaylogo: false}).then(function () {
        var s = el.parentNode && el.parentNode.querySelector(".nl-chart-static"); if (s) s.style.display = "none";
      }, function () { el.style.display = "none"; });
    });
  }
  if (window.Plotly) { draw(window.Plotly); return; }
  if (typeof window.requirejs === "function") {
    window.requirejs.config({paths: {nlplotly: "{{CdnUrl[..^3]}}"} });
    window.requirejs(["nlplotly"], draw, function () {});
    return;
  }
  var tag = document.getElementById("nl-plotly-js");
  if (!tag) {
    tag = document.createElement("script");
    tag.id = "nl-plotly-js"; tag.src = "{{CdnUrl}}"; tag.async = true;
    document.head.appendChild(tag);
  }
  tag.addEventListener("load", function () { draw(window.Plotly); });
})();
""";
    }

    static void AppendOfflinePlotly(StringBuilder sb)
    {
        // plotly.js is UMD: with an AMD loader on the page it would register anonymously and fail, so define is hidden while it runs.
        sb.Append("<script type=\"text/javascript\">window.__nlDefine = window.define; window.define = undefined;</script>");
        sb.Append("<script type=\"text/javascript\">").Append(PlotlyJs.Value.Replace("</script", "<\\/script")).Append("</script>");
        sb.Append("<script type=\"text/javascript\">window.define = window.__nlDefine;</script>");
    }

    static readonly Lazy<string> PlotlyJs = new(() =>
    {
        var asm = typeof(GenericChart).Assembly;
        var name = asm.GetManifestResourceNames().FirstOrDefault(n => n.StartsWith("Plotly.NET.plotly-") && n.EndsWith(".min.js"))
            ?? throw new InvalidOperationException("Plotly.NET has no embedded plotly.js resource; use PlotlyHtml.Source = PlotlyJsSource.Cdn");
        using var stream = asm.GetManifestResourceStream(name)!;
        return new StreamReader(stream).ReadToEnd();
    });
}
