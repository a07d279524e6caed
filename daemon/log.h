/* Logging for every process: JSON lines (default) or human text on stderr.
 * Shared by listener, monitor and child; children inherit the listener's stderr. */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR, LOG_LEVEL_FATAL };

/* component: "listener", "monitor", "child", "workspaced", ... */
void log_init(const char *component, int text, enum log_level min);
void log_set_component(const char *component);
/* Every later line carries this connection id (NULL clears it). */
void log_set_connid(const char *connid);
const char *log_get_connid(void);
int log_is_text(void);
enum log_level log_get_level(void);

/* fields: NULL or "key=value" pairs separated by '\n' rendered as JSON fields. */
void log_emit(enum log_level lvl, const char *func, const char *fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void log_vemit(enum log_level lvl, const char *func, const char *fields, const char *fmt, va_list ap);
__attribute__((noreturn)) void log_die(const char *func, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_emit(LOG_LEVEL_DEBUG, __func__, NULL, __VA_ARGS__)
#define log_info(...)  log_emit(LOG_LEVEL_INFO, __func__, NULL, __VA_ARGS__)
#define log_warn(...)  log_emit(LOG_LEVEL_WARN, __func__, NULL, __VA_ARGS__)
#define log_error(...) log_emit(LOG_LEVEL_ERROR, __func__, NULL, __VA_ARGS__)
/* Logs and exits 255: for broken invariants and startup failures. */
#define log_fatal(...) log_die(__func__, __VA_ARGS__)
/* With structured fields: log_infof("user=alice\nport=22", "login ok") */
#define log_infof(f, ...)  log_emit(LOG_LEVEL_INFO, __func__, (f), __VA_ARGS__)
#define log_warnf(f, ...)  log_emit(LOG_LEVEL_WARN, __func__, (f), __VA_ARGS__)
#define log_errorf(f, ...) log_emit(LOG_LEVEL_ERROR, __func__, (f), __VA_ARGS__)

#endif
