// The error base class lives in common/ (console-conf throws it too, and must
// not import daemon/); daemon libraries keep importing it from here.
export { CoreforgeError, isCoreforgeError } from '../common/errors.js';
