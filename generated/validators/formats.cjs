'use strict';
module.exports = {
  ...require('ajv-formats/dist/formats').fullFormats,
  'idn-email': require('ajv-formats-draft2019/formats/idn-email.js'),
  'iri-reference': true,
};
