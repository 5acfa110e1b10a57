namespace Deploy.Tests;

/// <summary>
/// A list of findings a check reports on purpose (Deploy/guard/accepted-*.txt): one per line, the rule, then why;
/// <c>#</c> starts a comment.
/// </summary>
public static class AcceptList
{
    public static readonly string Folder = Path.Combine(RepositoryFolder.Root, "Deploy", "guard");

    /// <summary>The rules of <paramref name="fileName"/> in <see cref="Folder"/>, each with its reason; a rule without one fails the test.</summary>
    public static IReadOnlyDictionary<string, string> Read(string fileName)
    {
        var accepted = File.ReadAllLines(Path.Combine(Folder, fileName))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(' ', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1].Trim() : "", StringComparer.Ordinal);
        Assert.All(accepted, a => Assert.False(string.IsNullOrWhiteSpace(a.Value), $"{a.Key} is accepted in {fileName} without a reason"));
        return accepted;
    }

    /// <summary>
    /// Every finding is accepted, and every accepted rule is still found in at least one configuration (an entry that no
    /// longer fails anywhere is stale and must go).
    /// </summary>
    public static void AssertMatches(string fileName, IReadOnlyCollection<(string Configuration, string Rule, string Detail)> found)
    {
        var accepted = Read(fileName);
        var unexpected = found.Where(f => !accepted.ContainsKey(f.Rule)).Select(f => $"{f.Configuration}: {f.Rule} {f.Detail}").ToList();
        Assert.True(unexpected.Count == 0, $"findings not accepted in {fileName}:\n{string.Join('\n', unexpected)}");
        var stale = accepted.Keys.Except(found.Select(f => f.Rule), StringComparer.Ordinal).ToList();
        Assert.True(stale.Count == 0, $"accepted in {fileName} but found in no configuration (remove them): {string.Join(", ", stale)}");
    }
}
