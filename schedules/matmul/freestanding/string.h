/* The <string.h> HalideRuntime.h includes, for compiling the i8mm micro-kernel for
 * Apple targets without an SDK (clang -ffreestanding -nostdlibinc): the declarations
 * it needs, as the C standard gives them. */
#ifndef PLM_FREESTANDING_STRING_H
#define PLM_FREESTANDING_STRING_H
#include <stddef.h>
void* memcpy(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);
#endif
