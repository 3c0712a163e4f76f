/* A simple heap for user programs (lib/malloc.c). */
#ifndef JOS_INC_MALLOC_H
#define JOS_INC_MALLOC_H

#include <inc/types.h>

void *malloc(size_t size);
void free(void *ptr);

#endif /* !JOS_INC_MALLOC_H */
