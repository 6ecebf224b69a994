const elapsed = Date.now() - Number(process.env.STATE_started);
console.log(`timer '${process.env.INPUT_LABEL}' stopped after ${elapsed >= 0 ? 'a few' : 'no'} milliseconds`);
