using System.Data.Common;
using DuckDB.NET.Data;

namespace Pipeline.Testing;

/// <summary>
/// A SQL statement's rows from DuckDB, each made into a value by <c>row</c>: how the tests read back the Parquet they check.
/// One file, linked into each project that reads Parquet with DuckDB.
/// </summary>
internal static class DuckDbQuery
{
    public static List<T> Query<T>(this DuckDBConnection connection, string sql, Func<DbDataReader, T> row)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(row(reader));
        }
        return rows;
    }
}
