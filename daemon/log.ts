export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
/** syslog priorities journald reads from a `<N>` line prefix. */
const syslogPriority: Record<LogLevel, number> = { debug: 7, info: 6, warn: 4, error: 3 };

export const logLevels = Object.keys(order) as LogLevel[];

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LogFields {
  change?: string | number;
  [key: string]: string | number | boolean | undefined;
}

/**
 * One line per event. Under journald (JOURNAL_STREAM set) lines carry a `<N>`
 * priority prefix and no timestamp, which journald adds; elsewhere an ISO time
 * and the level in words. Secrets never reach here: callers log names, not values.
 */
export function createLogger(options: {
  level: LogLevel;
  write: (line: string) => void;
  journald: boolean;
  now?: () => Date;
}): Logger {
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (order[level] < order[options.level]) return;
    const parts: string[] = [];
    if (fields.change !== undefined) parts.push(`change=${fields.change}`);
    for (const [key, value] of Object.entries(fields)) {
      if (key === 'change' || value === undefined) continue;
      parts.push(`${key}=${/\s/.test(String(value)) ? JSON.stringify(String(value)) : String(value)}`);
    }
    const text = [message.replace(/\n/g, ' '), ...parts].join(' ');
    options.write(
      options.journald
        ? `<${syslogPriority[level]}>${text}\n`
        : `${now().toISOString()} ${level.toUpperCase().padEnd(5)} ${text}\n`,
    );
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/** A logger that drops everything, for libraries used outside the daemon. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
