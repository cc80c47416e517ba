using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using System.Xml.Linq;

namespace NotebookLab.Tests.Views;

static class HtmlAssert
{
    public static IDocument Parse(string html) => new HtmlParser().ParseDocument(html);

    public static XDocument ParseSvg(string svg)
    {
        // OxyPlot writes a DOCTYPE; XDocument accepts it when DTD processing is allowed without fetching.
        var settings = new System.Xml.XmlReaderSettings { DtdProcessing = System.Xml.DtdProcessing.Ignore, XmlResolver = null };
        using var reader = System.Xml.XmlReader.Create(new StringReader(svg), settings);
        return XDocument.Load(reader);
    }

    public static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
}
