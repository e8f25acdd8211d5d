'use strict';
module.exports = function firstDuplicate(items) {
    const n = items.length;
    if (n < 2)
        return undefined;
    const equal = (a, b) => {
        if (a === b)
            return true;
        if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object')
            return false;
        if (Array.isArray(a)) {
            if (!Array.isArray(b) || a.length !== b.length)
                return false;
            for (let k = 0; k < a.length; k++)
                if (!equal(a[k], b[k]))
                    return false;
            return true;
        }
        if (Array.isArray(b))
            return false;
        const ka = Object.keys(a);
        if (ka.length !== Object.keys(b).length)
            return false;
        for (const k of ka) {
            if (!Object.hasOwn(b, k) || !equal(a[k], b[k]))
                return false;
        }
        return true;
    };
    if (n <= 8) {
        for (let i = 1; i < n; i++)
            for (let j = 0; j < i; j++)
                if (equal(items[j], items[i]))
                    return [j, i];
        return undefined;
    }
    const canonical = (v) => {
        if (v === null || typeof v !== 'object')
            return String(JSON.stringify(v));
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
            s += (k ? ',' : '') + JSON.stringify(keys[k]) + ':' + canonical(o[keys[k]]);
        return `${s}}`;
    };
    const primitives = new Map();
    const firstByShallow = new Map();
    let exact;
    const inExact = new Set();
    for (let i = 0; i < n; i++) {
        const v = items[i];
        if (v === null || typeof v !== 'object') {
            const j = primitives.get(v);
            if (j !== undefined)
                return [j, i];
            primitives.set(v, i);
            continue;
        }
        let key;
        if (Array.isArray(v))
            key = `\u0002${v.length}`;
        else {
            const o = v;
            const keys = Object.keys(o);
            if (keys.length > 1)
                keys.sort();
            key = '\u0003';
            for (const k of keys) {
                const x = o[k];
                key += `${k}\u0001${typeof x === 'object' && x !== null ? (Array.isArray(x) ? '\u0002' : '\u0003') : String(x)}\u0001`;
            }
        }
        const first = firstByShallow.get(key);
        if (first === undefined) {
            firstByShallow.set(key, i);
            continue;
        }
        exact ??= new Map();
        if (!inExact.has(first)) {
            exact.set(canonical(items[first]), first);
            inExact.add(first);
        }
        const full = canonical(v);
        const j = exact.get(full);
        if (j !== undefined)
            return [j, i];
        exact.set(full, i);
    }
    return undefined;
};
