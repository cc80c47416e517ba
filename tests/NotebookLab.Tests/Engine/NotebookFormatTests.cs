using System.Text.Json.Nodes;
using NotebookLab.Engine.Notebooks;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Engine;

public class NotebookFormatTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("nbl-format-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    const string PolyglotNotebook = """
        {
         "cells": [
          { "cell_type": "markdown", "metadata": {}, "source": ["# Tensors\n", "Prose."] },
          { "cell_type": "code", "execution_count": 3, "id": "setup",
            "metadata": { "polyglot_notebook": { "kernelName": "csharp" }, "dotnet_interactive": { "language": "csharp" }, "tags": ["parameters"] },
            "outputs": [ { "output_type": "stream", "name": "stdout", "text": ["hi\n"] },
                         { "output_type": "execute_result", "execution_count": 3, "metadata": {}, "data": { "text/plain": ["2"], "application/json": {"a": 1} } },
                         { "output_type": "error", "ename": "E", "evalue": "bad", "traceback": ["t1", "t2"] } ],
            "source": "var fast = false;" }
         ],
         "metadata": {
          "kernelspec": { "display_name": ".NET (C#)", "language": "C#", "name": ".net-csharp" },
          "language_info": { "name": "polyglot-notebook" },
          "polyglot_notebook": { "kernelInfo": { "defaultKernelName": "csharp", "items": [ { "aliases": [], "name": "csharp" } ] } },
          "custom": { "keep": [1, 2] }
         },
         "nbformat": 4, "nbformat_minor": 4
        }
        """;

    [Fact]
    public void Reads_cells_outputs_and_metadata()
    {
        var notebook = IpynbFormat.Parse(PolyglotNotebook, "x.ipynb");
        Assert.Equal(2, notebook.Cells.Count);
        Assert.Equal(CellType.Markdown, notebook.Cells[0].Type);
        Assert.Equal("# Tensors\nProse.", notebook.Cells[0].Source);
        Assert.Equal("cell-1", notebook.Cells[0].Id);   // nbformat 4.4 has no ids: one is made up
        var code = notebook.Cells[1];
        Assert.Equal("setup", code.Id);
        Assert.Equal(3, code.ExecutionCount);
        Assert.True(code.HasTag("parameters"));
        Assert.Equal("csharp", code.KernelName);
        Assert.Equal("hi\n", Assert.IsType<StreamOutput>(code.Outputs[0]).Text);
        var result = Assert.IsType<DisplayOutput>(code.Outputs[1]);
        Assert.True(result.IsExecuteResult);
        Assert.Equal("{\"a\":1}", result.Data["application/json"]);
        Assert.Equal(["t1", "t2"], Assert.IsType<ErrorOutput>(code.Outputs[2]).Traceback);
    }

    [RequiresToolFact("nbformat")]
    public void Writes_nbformat_4_5_preserving_unknown_metadata()
    {
        var notebook = IpynbFormat.Parse(PolyglotNotebook, "x.ipynb");
        var path = Path.Combine(dir, "out.ipynb");
        IpynbFormat.Write(notebook, path);
        Assert.Null(ExternalTools.NbformatError(path));

        var json = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal(5, json["nbformat_minor"]!.GetValue<int>());
        Assert.Equal("[1,2]", json["metadata"]!["custom"]!["keep"]!.ToJsonString());
        Assert.Equal("polyglot-notebook", json["metadata"]!["language_info"]!["name"]!.GetValue<string>());
        Assert.Equal("csharp", json["metadata"]!["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]!.GetValue<string>());
        Assert.All(json["cells"]!.AsArray(), c => Assert.False(string.IsNullOrEmpty(c!["id"]!.GetValue<string>())));
        Assert.Equal("csharp", json["cells"]![1]!["metadata"]!["dotnet_interactive"]!["language"]!.GetValue<string>());

        // Round trip is stable.
        var again = IpynbFormat.Serialize(IpynbFormat.Read(path));
        Assert.Equal(File.ReadAllText(path), again);
    }

    [Theory]
    [InlineData("{\"kernelspec\": {\"language\": \"python\", \"name\": \"python3\"}}", "python")]
    [InlineData("{\"kernelspec\": {\"language\": \"C#\", \"name\": \".net-csharp\"}}", "csharp")]
    [InlineData("{\"kernelspec\": {\"language\": \"C#\"}, \"polyglot_notebook\": {\"kernelInfo\": {\"defaultKernelName\": \"fsharp\"}}}", "fsharp")]
    [InlineData("{}", "csharp")]
    public void Default_kernel_is_read_as_dotnet_interactive_reads_it(string metadata, string expected)
    {
        var notebook = IpynbFormat.Parse($"{{\"cells\": [], \"metadata\": {metadata}, \"nbformat\": 4, \"nbformat_minor\": 5}}", "k.ipynb");
        Assert.Equal(expected, notebook.DefaultKernelName);
    }

    [Fact]
    public async Task A_python_notebook_is_refused_with_a_clear_error()
    {
        var notebook = IpynbFormat.Parse("""
            {"cells": [{"cell_type": "code", "id": "a", "metadata": {}, "outputs": [], "execution_count": null, "source": "print(1)"}],
             "metadata": {"kernelspec": {"language": "python", "name": "python3", "display_name": "Python 3"}}, "nbformat": 4, "nbformat_minor": 5}
            """, "py.ipynb");
        using var session = new NotebookLab.Engine.Execution.NotebookSession();
        var summary = await NotebookLab.Engine.Execution.NotebookExecutor.RunAsync(notebook, session, "py.ipynb");
        Assert.False(summary.Succeeded);
        Assert.Contains("py.ipynb, cell 1: this cell is for the 'python' kernel", summary.Error);
        Assert.IsType<ErrorOutput>(Assert.Single(notebook.Cells[0].Outputs));
    }

    [Fact]
    public void Display_ids_stay_out_of_saved_notebooks()
    {
        var notebook = new Notebook();
        var cell = new NotebookCell(CellType.Code, "x", "c1");
        cell.Outputs.Add(new DisplayOutput(new Dictionary<string, string> { ["text/plain"] = "x" }, DisplayId: "abc"));
        notebook.Cells.Add(cell);
        Assert.DoesNotContain("transient", IpynbFormat.Serialize(notebook));
        Assert.Equal("abc", IpynbFormat.WriteOutput(cell.Outputs[0], includeTransient: true)["transient"]!["display_id"]!.GetValue<string>());
    }

    [Fact]
    public void Malformed_json_names_path_line_and_position()
    {
        var path = Path.Combine(dir, "broken.ipynb");
        File.WriteAllText(path, "{\n \"cells\": [\n  {\"cell_type\": \"code\",, }\n ]\n}");
        var e = Assert.Throws<NotebookFormatException>(() => NotebookFile.Read(path));
        Assert.Equal(3, e.Line);
        Assert.NotNull(e.Position);
        Assert.StartsWith($"{path}:3:", e.Message);
        Assert.Contains("malformed notebook JSON", e.Message);
    }

    [Fact]
    public void Unreadable_paths_are_reported_as_format_errors()
    {
        // A directory cannot be opened as a file: .NET raises UnauthorizedAccessException (permission-denied path;
        // chmod 000 would not deny reads here because the tests may run as root).
        var folder = Directory.CreateDirectory(Path.Combine(dir, "folder.ipynb")).FullName;
        foreach (var read in new Func<string, Notebook>[] { IpynbFormat.Read, DibFormat.Read })
        {
            var denied = Assert.Throws<NotebookFormatException>(() => read(folder));
            Assert.IsType<UnauthorizedAccessException>(denied.InnerException);
            Assert.Equal(folder, denied.Path);
            Assert.StartsWith($"{folder}: cannot read the file: ", denied.Message);

            var missing = Path.Combine(dir, "no-such-folder", "x.dib");
            var io = Assert.Throws<NotebookFormatException>(() => read(missing));
            Assert.IsAssignableFrom<IOException>(io.InnerException);
            Assert.StartsWith($"{missing}: cannot read the file: ", io.Message);
        }
    }

    [Theory]
    [InlineData("[1, 2]", "a notebook must be a JSON object")]
    [InlineData("{\"nbformat\": 3, \"cells\": []}", "nbformat 3 is not supported")]
    [InlineData("{\"nbformat\": 4}", "missing \"cells\"")]
    [InlineData("{\"nbformat\": 4, \"cells\": [{\"cell_type\": \"widget\"}]}", "cell 1 has unknown cell_type \"widget\"")]
    public void Structurally_wrong_notebooks_are_rejected_clearly(string json, string expected)
    {
        var e = Assert.Throws<NotebookFormatException>(() => IpynbFormat.Parse(json, "nb.ipynb"));
        Assert.StartsWith("nb.ipynb", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Dib_cells_meta_and_magics()
    {
        const string dib = """
            #!meta

            {"kernelInfo":{"defaultKernelName":"csharp","items":[{"aliases":[],"name":"csharp"}]}}

            #!markdown

            # Title

            #!csharp

            #!time
            var x = 1;

            #!c#
            x + 1

            #!md
            Done.
            """;
        var notebook = DibFormat.Parse(dib, "n.dib");
        Assert.Equal([CellType.Markdown, CellType.Code, CellType.Code, CellType.Markdown], notebook.Cells.Select(c => c.Type));
        Assert.Equal("# Title", notebook.Cells[0].Source);
        Assert.Equal("#!time\nvar x = 1;", notebook.Cells[1].Source);   // unknown #! lines stay in the cell
        Assert.Equal("x + 1", notebook.Cells[2].Source);
        Assert.Equal("csharp", notebook.Cells[1].KernelName);
        Assert.Equal("csharp", notebook.DefaultKernelName);
        Assert.Equal(".net-csharp", notebook.Metadata["kernelspec"]!["name"]!.GetValue<string>());
        Assert.Equal(4, notebook.Cells.Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public void Dib_without_separators_is_one_csharp_cell_and_bad_meta_is_reported()
    {
        var notebook = DibFormat.Parse("\nvar a = 1;\n", "plain.dib");
        Assert.Equal("var a = 1;", Assert.Single(notebook.Cells).Source);

        var e = Assert.Throws<NotebookFormatException>(() => DibFormat.Parse("#!meta\n\n{\"kernelInfo\": \n", "bad.dib"));
        Assert.StartsWith("bad.dib:", e.Message);
        Assert.Contains("#!meta", e.Message);
    }

    [Fact]
    public void Parameters_are_injected_after_the_parameters_cell()
    {
        var notebook = IpynbFormat.Parse(PolyglotNotebook, "x.ipynb");
        notebook.Cells.Add(new NotebookCell(CellType.Code, "fast", "last"));
        var parameters = NotebookParameters.ParseAssignments(["fast=true", "epochs=3", "lr=0.001", "name=say \"hi\"\\n", "big=12345678901", "f=2.0"]);
        int index = NotebookParameters.Inject(notebook, parameters);
        Assert.Equal(2, index);
        var cell = notebook.Cells[index];
        Assert.True(cell.HasTag(Notebook.InjectedParametersTag));
        Assert.Equal("""
            // Parameters injected by notebooklab run
            var fast = true;
            var epochs = 3;
            var lr = 0.001;
            var name = "say \"hi\"\\n";
            var big = 12345678901L;
            var f = 2.0;
            """.ReplaceLineEndings("\n"), cell.Source);
        Assert.Equal(3, NotebookExecutor_CellNumber(notebook, 3));

        // Injecting again replaces the earlier injected cell.
        NotebookParameters.Inject(notebook, NotebookParameters.ParseAssignments(["fast=false"]));
        Assert.Single(notebook.Cells, c => c.HasTag(Notebook.InjectedParametersTag));
    }

    static int NotebookExecutor_CellNumber(Notebook notebook, int index) => NotebookLab.Engine.Execution.NotebookExecutor.CellNumber(notebook, index);

    [Fact]
    public void Parameters_go_first_without_a_parameters_cell_and_bad_names_are_rejected()
    {
        var notebook = new Notebook();
        notebook.Cells.Add(new NotebookCell(CellType.Code, "var a = 1;", "a"));
        Assert.Equal(0, NotebookParameters.Inject(notebook, NotebookParameters.ParseAssignments(["seed=7"])));
        Assert.Contains("var seed = 7;", notebook.Cells[0].Source);

        Assert.Contains("not of the form name=value", Assert.Throws<ArgumentException>(() => NotebookParameters.ParseAssignments(["fast"])).Message);
        Assert.Contains("'class'", Assert.Throws<ArgumentException>(() => NotebookParameters.ParseAssignments(["class=1"])).Message);
        Assert.Contains("'2x'", Assert.Throws<ArgumentException>(() => NotebookParameters.ParseAssignments(["2x=1"])).Message);
    }
}
