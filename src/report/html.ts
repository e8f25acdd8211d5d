import type { InventoryReport } from '../bom/rows.js';

/**
 * The inventory as one self-contained HTML page: no external requests (inline CSS and
 * script, a strict CSP), filters, and the dependency graph. BOM content is hostile: it is
 * embedded as JSON with `<` escaped and rendered with textContent only, never as HTML.
 */
const SEVERITY_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

/** Rows as the page's script reads them: every value a display string, worst risks first. */
function pageData(rep: InventoryReport) {
  // Risks first: rows with the worst risks lead, in their BOM order otherwise.
  const rank = (r: InventoryReport['rows'][number]) => (r.risks.length ? Math.min(...r.risks.map((f) => SEVERITY_RANK[f.severity] ?? 5)) : 9);
  const rows = rep.rows.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map((x) => x.r);
  return {
    project: rep.project,
    specVersion: rep.specVersion,
    summary: rep.summary,
    rows: rows.map((r) => ({
      ref: r.ref,
      kind: r.kind,
      name: r.name,
      version: r.version ?? '',
      pinned: r.pinned === undefined ? '' : r.pinned ? 'yes' : 'no',
      unpinnedReason: r.unpinnedReason ?? '',
      // A service (a remote API or a remote MCP server) has no bytes here to hash.
      hashed: r.type === 'service' ? 'n/a' : r.hashes.length || r.folderDigest ? 'yes' : 'no',
      signed: r.signature ? (r.signature.signer ?? (r.signature.keyFingerprint ? `key ${r.signature.keyFingerprint}` : 'bundle present')) : '',
      provenance: r.provenance,
      license: r.licenses.join(', '),
      risks: r.risks.map((f) => `${f.severity}: ${f.message}`),
      scope: r.scope ?? '',
    })),
    findings: rep.findings.map((f) => `${f.severity}: ${f.location?.file ? `${f.location.file}: ` : ''}${f.message}`),
    dependencies: Object.fromEntries(rep.dependencies),
  };
}

export function renderAuditHtml(rep: InventoryReport): string {
  const data = pageData(rep);
  const json = JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  const title = escapeHtml(`AI-BOM: ${rep.project.name}${rep.project.version ? ` ${rep.project.version}` : ''}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${title}</title>
<style>
${PAGE_STYLE}</style>
</head>
<body>
${PAGE_MARKUP}<script type="application/json" id="bom-data">${json}</script>
<script>
${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/** Inline CSS (the CSP allows inline styles only). */
const PAGE_STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f23;background:#fff}
h1{font-size:1.4em;margin:0 0 .3em}
.summary{margin:.5em 0 1em;color:#444}
.filters{display:flex;gap:1em;flex-wrap:wrap;align-items:center;margin-bottom:1em;padding:.6em;background:#f6f8fa;border-radius:6px}
table{border-collapse:collapse;width:100%;table-layout:auto}
th,td{border-bottom:1px solid #e1e4e8;padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
td.long{max-width:22em}
tbody tr:focus{outline:2px solid #0366d6;outline-offset:-2px}
.na{color:#586069}
#risks li{margin:2px 0}
th{background:#f6f8fa;position:sticky;top:0}
tr.sel{background:#fff8c5}
.no{color:#b31d28;font-weight:600}.yes{color:#22863a}
.risk{color:#b31d28}
#graph{margin-top:1.5em}
#graph ul{list-style:none;padding-left:1.2em;margin:0}
#graph li{margin:2px 0}
.k{display:inline-block;min-width:6.5em;color:#586069;font-size:.85em}
`;

/** The page's static markup: filters, the table the script fills, findings and the graph. */
const PAGE_MARKUP = `<h1 id="title"></h1>
<div class="summary" id="summary"></div>
<div class="filters">
<label>Search <input id="q" type="search" placeholder="name, purl, license…"></label>
<label>Kind <select id="kind"><option value="">all</option></select></label>
<label><input id="unpinned" type="checkbox"> unpinned only</label>
<label><input id="unsigned" type="checkbox"> unsigned only</label>
<label><input id="risky" type="checkbox"> with risks only</label>
<span id="count"></span>
</div>
<section id="risks"></section>
<table id="inv"><caption class="summary">Components, those with risks first. Tab to a row and press Enter to see its dependencies.</caption><thead><tr><th>kind</th><th>name</th><th>risks</th><th>version</th><th>pinned</th><th>hashed</th><th>signed</th><th>provenance</th><th>license</th></tr></thead><tbody></tbody></table>
<section id="findings"></section>
<section id="graph"><h2>Dependency graph</h2><p>Click a component above to see what it depends on and what depends on it.</p><div id="tree"></div></section>
`;

/** The page's script: reads the embedded JSON and renders it with textContent only (never as HTML). */
const PAGE_SCRIPT = `(function(){
'use strict';
var D=JSON.parse(document.getElementById('bom-data').textContent);
function shorten(v){return String(v).replace(/\\b(sha256|sha384|sha512):([0-9a-f]{12})[0-9a-f]{20,}/gi,'$1:$2\u2026');}
function el(t,txt,cls){var e=document.createElement(t);if(txt!==undefined)e.textContent=String(txt);if(cls)e.className=cls;return e;}
document.getElementById('title').textContent='AI-BOM: '+D.project.name+(D.project.version?' '+D.project.version:'');
var s=D.summary;
document.getElementById('summary').textContent=s.total+' components ('+Object.keys(s.byKind).map(function(k){return s.byKind[k]+' '+k;}).join(', ')+'); pinned '+s.pinned+', unpinned '+s.unpinned+'; hashed '+s.hashed+'; signed '+s.signed+'. CycloneDX '+D.specVersion+'.';
var kinds={};D.rows.forEach(function(r){kinds[r.kind]=1;});
var ks=document.getElementById('kind');Object.keys(kinds).sort().forEach(function(k){var o=el('option',k);o.value=k;ks.appendChild(o);});
var tbody=document.querySelector('#inv tbody');
var byRef={};
D.rows.forEach(function(r){
  byRef[r.ref]=r;
  var tr=el('tr');tr.dataset.ref=r.ref;
  [r.kind,r.name].forEach(function(v){tr.appendChild(el('td',v));});
  tr.appendChild(el('td',r.risks.join('; '),'risk'));
  tr.appendChild(el('td',r.version));
  tr.appendChild(el('td',r.pinned+(r.unpinnedReason?' ('+r.unpinnedReason+')':''),r.pinned==='no'?'no':r.pinned==='yes'?'yes':''));
  tr.appendChild(el('td',r.hashed,r.hashed==='no'?'no':r.hashed==='n/a'?'na':'yes'));
  var sg=el('td',r.signed?shorten(r.signed):'no',r.signed?'yes long':'');if(r.signed)sg.title=r.signed;tr.appendChild(sg);
  var pv=el('td',shorten(r.provenance),'long');pv.title=r.provenance;tr.appendChild(pv);
  tr.appendChild(el('td',r.license));
  tr.tabIndex=0;
  tr.addEventListener('click',function(){select(r.ref);});
  tr.addEventListener('keydown',function(ev){if(ev.key==='Enter'||ev.key===' '){ev.preventDefault();select(r.ref);}});
  r.tr=tr;tbody.appendChild(tr);
});
function apply(){
  var q=document.getElementById('q').value.toLowerCase(),k=ks.value;
  var up=document.getElementById('unpinned').checked,us=document.getElementById('unsigned').checked,rk=document.getElementById('risky').checked;
  var n=0;
  D.rows.forEach(function(r){
    var hay=(r.name+' '+r.version+' '+r.ref+' '+r.license+' '+r.provenance).toLowerCase();
    var show=(!q||hay.indexOf(q)>=0)&&(!k||r.kind===k)&&(!up||r.pinned==='no')&&(!us||!r.signed)&&(!rk||r.risks.length>0);
    r.tr.style.display=show?'':'none';if(show)n++;
  });
  document.getElementById('count').textContent=n+' of '+D.rows.length+' shown';
}
['q','kind','unpinned','unsigned','risky'].forEach(function(id){document.getElementById(id).addEventListener('input',apply);document.getElementById(id).addEventListener('change',apply);});
apply();
var risky=D.rows.filter(function(r){return r.risks.length>0;});
if(risky.length){var rs=document.getElementById('risks');rs.appendChild(el('h2','Risks ('+risky.length+')'));var rl=el('ul');risky.forEach(function(r){r.risks.forEach(function(x){var li=el('li');var a=el('a',r.name+(r.version?'@'+r.version:''));a.href='#';a.addEventListener('click',function(ev){ev.preventDefault();select(r.ref);r.tr.focus();});li.appendChild(a);li.appendChild(el('span',': '+x,'risk'));rl.appendChild(li);});});rs.appendChild(rl);}
if(D.findings.length){var f=document.getElementById('findings');f.appendChild(el('h2','Findings'));var ul=el('ul');D.findings.forEach(function(x){ul.appendChild(el('li',x));});f.appendChild(ul);}
var rev={};Object.keys(D.dependencies).forEach(function(a){D.dependencies[a].forEach(function(b){(rev[b]=rev[b]||[]).push(a);});});
function label(ref){var r=byRef[ref];return r?(r.name+(r.version?'@'+r.version:'')):ref===D.project.ref?D.project.name+' (project)':ref;}
function list(title,refs){var d=el('div');d.appendChild(el('h3',title+' ('+refs.length+')'));var ul=el('ul');refs.slice(0,500).forEach(function(x){var li=el('li');var r=byRef[x];li.appendChild(el('span',r?r.kind:'','k'));var a=el('a',label(x));a.href='#';a.addEventListener('click',function(ev){ev.preventDefault();select(x);});li.appendChild(a);ul.appendChild(li);});d.appendChild(ul);return d;}
function select(ref){
  D.rows.forEach(function(r){r.tr.classList.toggle('sel',r.ref===ref);});
  var t=document.getElementById('tree');t.textContent='';
  t.appendChild(el('h3',label(ref)));
  t.appendChild(list('depends on',D.dependencies[ref]||[]));
  t.appendChild(list('used by',rev[ref]||[]));
}
if(D.project.ref)select(D.project.ref);
})();
`;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
