import type { InventoryReport } from './inventory.js';

/**
 * The inventory as one self-contained HTML page: no external requests (inline CSS and
 * script, a strict CSP), filters, and the dependency graph. BOM content is hostile: it is
 * embedded as JSON with `<` escaped and rendered with textContent only, never as HTML.
 */
export function renderAuditHtml(rep: InventoryReport): string {
  const data = {
    project: rep.project,
    specVersion: rep.specVersion,
    summary: rep.summary,
    rows: rep.rows.map((r) => ({
      ref: r.ref,
      kind: r.kind,
      name: r.name,
      version: r.version ?? '',
      pinned: r.pinned === undefined ? '' : r.pinned ? 'yes' : 'no',
      unpinnedReason: r.unpinnedReason ?? '',
      hashed: r.hashes.length || r.folderDigest ? 'yes' : 'no',
      signed: r.signature ? (r.signature.signer ?? r.signature.keyFingerprint ?? 'bundle present') : '',
      provenance: r.provenance,
      license: r.licenses.join(', '),
      risks: r.risks.map((f) => `${f.severity}: ${f.message}`),
      scope: r.scope ?? '',
    })),
    findings: rep.findings.map((f) => `${f.severity}: ${f.location?.file ? `${f.location.file}: ` : ''}${f.message}`),
    dependencies: Object.fromEntries(rep.dependencies),
  };
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
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f23;background:#fff}
h1{font-size:1.4em;margin:0 0 .3em}
.summary{margin:.5em 0 1em;color:#444}
.filters{display:flex;gap:1em;flex-wrap:wrap;align-items:center;margin-bottom:1em;padding:.6em;background:#f6f8fa;border-radius:6px}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #e1e4e8;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}
tr.sel{background:#fff8c5}
.no{color:#b31d28;font-weight:600}.yes{color:#22863a}
.risk{color:#b31d28}
#graph{margin-top:1.5em}
#graph ul{list-style:none;padding-left:1.2em;margin:0}
#graph li{margin:2px 0}
.k{display:inline-block;min-width:6.5em;color:#586069;font-size:.85em}
</style>
</head>
<body>
<h1 id="title"></h1>
<div class="summary" id="summary"></div>
<div class="filters">
<label>Search <input id="q" type="search" placeholder="name, purl, license…"></label>
<label>Kind <select id="kind"><option value="">all</option></select></label>
<label><input id="unpinned" type="checkbox"> unpinned only</label>
<label><input id="unsigned" type="checkbox"> unsigned only</label>
<label><input id="risky" type="checkbox"> with risks only</label>
<span id="count"></span>
</div>
<table id="inv"><thead><tr><th>kind</th><th>name</th><th>version</th><th>pinned</th><th>hashed</th><th>signed</th><th>provenance</th><th>license</th><th>risks</th></tr></thead><tbody></tbody></table>
<section id="findings"></section>
<section id="graph"><h2>Dependency graph</h2><p>Click a component above to see what it depends on and what depends on it.</p><div id="tree"></div></section>
<script type="application/json" id="bom-data">${json}</script>
<script>
(function(){
'use strict';
var D=JSON.parse(document.getElementById('bom-data').textContent);
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
  [r.kind,r.name,r.version].forEach(function(v){tr.appendChild(el('td',v));});
  tr.appendChild(el('td',r.pinned+(r.unpinnedReason?' ('+r.unpinnedReason+')':''),r.pinned==='no'?'no':r.pinned==='yes'?'yes':''));
  tr.appendChild(el('td',r.hashed,r.hashed==='no'?'no':'yes'));
  tr.appendChild(el('td',r.signed||'no',r.signed?'yes':''));
  tr.appendChild(el('td',r.provenance));
  tr.appendChild(el('td',r.license));
  tr.appendChild(el('td',r.risks.join('; '),'risk'));
  tr.addEventListener('click',function(){select(r.ref);});
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
</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
