'use strict';
module.exports = function firstDuplicate(items) {
    const n = items.length;
    if (n < 2)
        return undefined;
    const scalar = (v) => String(JSON.stringify(v));
    const canonical = (v) => {
        if (v === null || typeof v !== 'object')
            return scalar(v);
        if (Array.isArray(v)) {
            let s = '[';
            for (let k = 0; k < v.length; k++)
                s += (k ? ',' : '') + canonical(v[k]);
            return `${s}]`;
        }
        const o = v;
        const keys = Object.keys(o).sort();
        let s = '{';
        for (let k = 0; k < keys.length; k++)
            s += (k ? ',' : '') + scalar(keys[k]) + ':' + canonical(o[keys[k]]);
        return `${s}}`;
    };
    const shallow = (v) => {
        if (v === null || typeof v !== 'object')
            return scalar(v);
        if (Array.isArray(v))
            return `[${v.length}`;
        const o = v;
        const keys = Object.keys(o).sort();
        let s = '{';
        for (let k = 0; k < keys.length; k++) {
            const x = o[keys[k]];
            s += scalar(keys[k]) + ':';
            if (x === null || typeof x !== 'object')
                s += scalar(x);
            else if (Array.isArray(x))
                s += `[${x.length}`;
            else
                s += `{${Object.keys(x).length}`;
            s += ',';
        }
        return s;
    };
    // shallow key → index of the first item with it, and whether that item is in `exact` yet
    const firstByShallow = new Map();
    const exact = new Map();
    for (let i = 0; i < n; i++) {
        const key = shallow(items[i]);
        const first = firstByShallow.get(key);
        if (first === undefined) {
            firstByShallow.set(key, { index: i, inExact: false });
            continue;
        }
        if (!first.inExact) {
            exact.set(canonical(items[first.index]), first.index);
            first.inExact = true;
        }
        const full = canonical(items[i]);
        const j = exact.get(full);
        if (j !== undefined)
            return [j, i];
        exact.set(full, i);
    }
    return undefined;
};
