/* The 8259A interrupt controllers (kern/picirq.c). */
#ifndef JOS_KERN_PICIRQ_H
#define JOS_KERN_PICIRQ_H

#include <inc/types.h>

void pic_init(void);
void irq_unmask_8259A(int irq);

#endif /* !JOS_KERN_PICIRQ_H */
