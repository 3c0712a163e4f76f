/* Error codes. System calls and library functions return them negated. */
#ifndef JOS_INC_ERROR_H
#define JOS_INC_ERROR_H

enum {
	E_UNSPECIFIED = 1, /* Unspecified or unknown problem */
	E_BAD_ENV,         /* Environment doesn't exist or otherwise
	                      cannot be used in requested action */
	E_INVAL,           /* Invalid parameter */
	E_NO_MEM,          /* Request failed due to memory shortage */
	E_NO_FREE_ENV,     /* Attempt to create a new environment beyond
	                      the maximum allowed */
	E_FAULT,           /* Memory fault */
	E_NO_SYS,          /* Unimplemented system call */

	E_IPC_NOT_RECV, /* Attempt to send to env that is not recving */
	E_EOF,          /* Unexpected end of file */

	/* File system error codes -- only seen in user-level */
	E_NO_DISK,     /* No free space left on disk */
	E_MAX_OPEN,    /* Too many files are open */
	E_NOT_FOUND,   /* File or block not found */
	E_BAD_PATH,    /* Bad path */
	E_FILE_EXISTS, /* File already exists */
	E_NOT_EXEC,    /* File not a valid executable */
	E_NOT_SUPP,    /* Operation not supported */

	/* Virtualization */
	E_NO_VMX, /* The CPU offers neither VT-x (VMX) nor AMD-V (SVM) */
	E_NO_EPT, /* VMX without EPT, or SVM without NPT */

	E_BUSY, /* In use by someone else (a guest's disk, the console) */
	E_PERM, /* Not allowed to this client (a guest outside its disk) */

	MAXERROR
};

#endif /* !JOS_INC_ERROR_H */
