// The BSI CSAF validator's schema test, every mandatory test and every optional test over the
// CSAF 2.0 documents read as a JSON list from standard input; the failures and findings out.
import validate from '@secvisogram/csaf-validator-lib/validate.js'
import { csaf_2_0_strict } from '@secvisogram/csaf-validator-lib/schemaTests.js'
import * as mandatory from '@secvisogram/csaf-validator-lib/mandatoryTests.js'
import * as optional from '@secvisogram/csaf-validator-lib/optionalTests.js'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const documents = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const describe = (test, found) =>
  found.map((item) => `${test.name} ${item.instancePath}: ${item.message}`)

const results = []
for (const document of documents) {
  const required = await validate([csaf_2_0_strict, ...Object.values(mandatory)], document)
  const advised = await validate(Object.values(optional), document)
  results.push({
    failures: required.tests.flatMap((test) => describe(test, test.errors)),
    findings: advised.tests.flatMap((test) => describe(test, [...test.errors, ...test.warnings])),
  })
}
process.stdout.write(JSON.stringify(results))
