/* The global descriptor table and per-CPU TSS (kern/gdt.c). */
#ifndef JOS_KERN_GDT_H
#define JOS_KERN_GDT_H

void gdt_init(void);
void gdt_init_percpu(void);

#endif /* !JOS_KERN_GDT_H */
