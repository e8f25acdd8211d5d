/** mcp-tools/: MCP tool-definition pins, checked against the BOM before a server's tools are exposed (the public face; see ARCHITECTURE.md). */
export { McpToolsChangedError, type PinnedServer, pinnedServers, type VerifyMcpToolsOptions, verifyMcpTools } from './verify.js';
export { pinTools, type ToolPin, type ToolSetPin, toolHash } from './definitions.js';
