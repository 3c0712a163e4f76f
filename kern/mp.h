/* Multiprocessor discovery (kern/mpconfig.c). */
#ifndef JOS_KERN_MP_H
#define JOS_KERN_MP_H

void mp_init(void);

#endif /* !JOS_KERN_MP_H */
