/* attend/export.h — ATTEND_API marks the symbols the shared libattend exports. The library is
   built with hidden visibility, so everything else (oneDNN, SentencePiece, JSON and the engine's
   internals) stays private to it. Usable from C and C++. */
#ifndef ATTEND_EXPORT_H
#define ATTEND_EXPORT_H

#if defined(_WIN32)
#  if defined(ATTEND_BUILDING_SHARED)
#    define ATTEND_API __declspec(dllexport)
#  elif defined(ATTEND_USING_SHARED)
#    define ATTEND_API __declspec(dllimport)
#  else
#    define ATTEND_API
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define ATTEND_API __attribute__((visibility("default")))
#else
#  define ATTEND_API
#endif

/* Internal classes nested in exported ones (their pimpl structs) stay hidden. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(_WIN32)
#  define ATTEND_HIDDEN __attribute__((visibility("hidden")))
#else
#  define ATTEND_HIDDEN
#endif

#endif /* ATTEND_EXPORT_H */
