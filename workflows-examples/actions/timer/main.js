const fs = require('fs');
const now = Date.now();
fs.appendFileSync(process.env.GITHUB_STATE, `started=${now}\n`);
fs.appendFileSync(process.env.GITHUB_OUTPUT, `started=${now}\n`);
console.log(`timer '${process.env.INPUT_LABEL}' started`);
