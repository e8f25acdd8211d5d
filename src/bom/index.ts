/** bom/: CycloneDX JSON, always schema-validated, and the reviewer's row view of a BOM (the public face; see ARCHITECTURE.md). */
export { type BomJson, type BomOptions, buildBom, serializeBom } from './build.js';
export { type SchemaError, validateBomJson } from './validate.js';
export { type InventoryReport, type InventoryRow, inventoryFromBom } from './rows.js';
