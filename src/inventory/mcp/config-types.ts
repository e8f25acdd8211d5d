/** What parsing one MCP client config gives (config-file.ts for JSON, client-formats.ts for the others). */
export interface McpServerEntry {
  /** The server's key in the config. */
  name: string;
  /** The server definition (plain JSON value). */
  def: unknown;
  /** 1-based line of the server's key. */
  line: number;
  /** Where in the file: `mcpServers`, `servers` or `mcp.servers`. */
  section: string;
}

export type McpConfigParse =
  | { ok: true; servers: McpServerEntry[]; sections: string[] }
  | { ok: false; error: string; line?: number };
