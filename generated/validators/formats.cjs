'use strict';
module.exports = {
  ...require('ajv-formats/dist/formats').fullFormats,
  // Loaded on first use: its e-mail grammar (nearley) is rarely needed to check a BOM.
  'idn-email': (value) => require('ajv-formats-draft2019/formats/idn-email.js')(value),
  'iri-reference': true,
};
