#!/bin/sh
# Prints "yes" only when this host really offers nested VMX or SVM to a KVM
# guest: the module's nested parameter is on AND the CPU flag is present.
# Never assume: the paravirtual KVM on our build machines has neither.
[ -w /dev/kvm ] || { echo no; exit 0; }
for mod in kvm_intel:vmx kvm_amd:svm; do
	m=${mod%%:*}; flag=${mod##*:}
	f=/sys/module/$m/parameters/nested
	if [ -r "$f" ] && grep -qE '^(Y|1)$' "$f" &&
	   grep -qw "$flag" /proc/cpuinfo; then
		echo yes; exit 0
	fi
done
echo no
