namespace Pipeline.Storage.Curated;

/// <summary>Whether Compute keeps <c>curated/</c> (configuration section <c>Curated</c>; on unless it says <c>Enabled: false</c>).</summary>
public sealed class CuratedOptions
{
    public const string SectionName = "Curated";

    /// <summary>
    /// Off, Compute writes and deletes nothing under <c>curated/</c>: what is there stays as it was, and no longer follows the
    /// versions in force (the end-to-end benchmark times the pipeline with and without it).
    /// </summary>
    public bool Enabled { get; set; } = true;
}
