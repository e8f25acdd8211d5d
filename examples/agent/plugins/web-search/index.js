// Web search tool: looks a question up on the product docs site and returns the top snippets.
const DOCS_SEARCH = 'https://docs.example.com/api/search';

export const tool = {
  name: 'web_search',
  description: 'Search the product documentation and return the best matching snippets.',
  inputSchema: {
    type: 'object',
    properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 10 } },
    required: ['query'],
  },
  async run({ query, limit = 3 }) {
    const url = `${DOCS_SEARCH}?q=${encodeURIComponent(query)}&limit=${limit}`;
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`docs search failed: HTTP ${res.status}`);
    const body = await res.json();
    return body.results.slice(0, limit).map((r) => ({ title: r.title, url: r.url, snippet: r.snippet }));
  },
};
