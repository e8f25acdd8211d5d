'use strict';
module.exports = function firstDuplicate(items) {
    if (items.length < 2)
        return undefined;
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
    const seen = new Map();
    for (let i = 0; i < items.length; i++) {
        const key = canonical(items[i]);
        const j = seen.get(key);
        if (j !== undefined)
            return [j, i];
        seen.set(key, i);
    }
    return undefined;
};
