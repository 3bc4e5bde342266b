// SPDX-License-Identifier: GPL-2.0
/*
 * fake_rproc - a TEST-ONLY remoteproc driver for the kernel test tier of
 * remoteproc-runtime.  It is never meant for a real system.
 *
 * At module init it registers a platform driver and a matching platform
 * device; probe allocates and adds one remote processor whose "memory" is a
 * 1 MiB vmalloc buffer.  Firmware images are real ELF files handled by the
 * kernel's own ELF helpers:
 *
 *   - device addresses (p_paddr of PT_LOAD segments, sh_addr of
 *     .resource_table, trace buffers) must lie in
 *     [FAKE_RPROC_DA_BASE, FAKE_RPROC_DA_BASE + FAKE_RPROC_MEM_SIZE)
 *     i.e. 0x10000000 .. 0x100fffff; anything else is "bad phdr da";
 *   - the resource table is optional: if the image has a valid
 *     .resource_table it is used, otherwise parse_fw still succeeds
 *     (like stm32/imx drivers do).
 *
 * Module parameters:
 *   name=STR         rproc name (sysfs "name"), default "fake-rproc"
 *   drv_name=STR     platform driver/device name, i.e. what
 *                    remoteprocN/device/driver points at, default "fake-rproc"
 *   start_errno=N    make ops->start fail with -N (e.g. 5 for EIO)
 *   stop_errno=N     make ops->stop fail with -N
 *   attached=1       report RPROC_DETACHED at probe (auto_boot is then set so
 *                    the core attaches at once, as for a core started by a
 *                    bootloader); "state" reads "attached", "firmware"
 *                    reads "unknown".
 *
 * For the tests, read-only module parameters count the driver calls
 * (starts, stops, attaches, detaches) and record what the last successful
 * start saw: last_boot_addr (ELF e_entry, decimal) and last_word0 (first
 * 32-bit word loaded at the window base, decimal).
 */
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/remoteproc.h>
#include <linux/firmware.h>
#include <linux/vmalloc.h>
#include <linux/slab.h>

/*
 * Exported by drivers/remoteproc/remoteproc_elf_loader.c but declared only in
 * the private drivers/remoteproc/remoteproc_internal.h, which is not part of
 * linux-headers.  Prototypes as of v6.1.
 */
int rproc_elf_sanity_check(struct rproc *rproc, const struct firmware *fw);
u64 rproc_elf_get_boot_addr(struct rproc *rproc, const struct firmware *fw);
int rproc_elf_load_segments(struct rproc *rproc, const struct firmware *fw);
int rproc_elf_load_rsc_table(struct rproc *rproc, const struct firmware *fw);
struct resource_table *rproc_elf_find_loaded_rsc_table(struct rproc *rproc,
						       const struct firmware *fw);

#define FAKE_RPROC_DA_BASE	0x10000000ULL
#define FAKE_RPROC_MEM_SIZE	(1024 * 1024)

static char *name = "fake-rproc";
module_param(name, charp, 0444);
MODULE_PARM_DESC(name, "remoteproc name");

static char *drv_name = "fake-rproc";
module_param(drv_name, charp, 0444);
MODULE_PARM_DESC(drv_name, "platform driver and device name");

static int start_errno;
module_param(start_errno, int, 0644);
MODULE_PARM_DESC(start_errno, "if non-zero, ops->start fails with -start_errno");

static int stop_errno;
module_param(stop_errno, int, 0644);
MODULE_PARM_DESC(stop_errno, "if non-zero, ops->stop fails with -stop_errno");

static bool attached;
module_param(attached, bool, 0444);
MODULE_PARM_DESC(attached, "report the core as already running (attach at probe)");

static int starts, stops, attaches, detaches;
module_param(starts, int, 0444);
module_param(stops, int, 0444);
module_param(attaches, int, 0444);
module_param(detaches, int, 0444);

/* what the last successful start saw: e_entry and the first word at the base */
static unsigned long last_boot_addr;
static unsigned int last_word0;
module_param(last_boot_addr, ulong, 0444);
module_param(last_word0, uint, 0444);

struct fake_rproc {
	void *mem;
};

static int fake_rproc_start(struct rproc *rproc)
{
	if (start_errno) {
		pr_info("fake_rproc: start refused with -%d\n", start_errno);
		return -start_errno;
	}
	starts++;
	last_boot_addr = rproc->bootaddr;
	last_word0 = *(u32 *)((struct fake_rproc *)rproc->priv)->mem;
	pr_info("fake_rproc: start boot_addr=0x%llx word0=0x%x\n",
		(unsigned long long)rproc->bootaddr, last_word0);
	return 0;
}

static int fake_rproc_stop(struct rproc *rproc)
{
	if (stop_errno) {
		pr_info("fake_rproc: stop refused with -%d\n", stop_errno);
		return -stop_errno;
	}
	stops++;
	pr_info("fake_rproc: stop\n");
	return 0;
}

static int fake_rproc_attach(struct rproc *rproc)
{
	attaches++;
	pr_info("fake_rproc: attach\n");
	return 0;
}

static int fake_rproc_detach(struct rproc *rproc)
{
	detaches++;
	pr_info("fake_rproc: detach\n");
	return 0;
}

static void *fake_rproc_da_to_va(struct rproc *rproc, u64 da, size_t len,
				 bool *is_iomem)
{
	struct fake_rproc *priv = rproc->priv;

	if (da < FAKE_RPROC_DA_BASE || len > FAKE_RPROC_MEM_SIZE ||
	    da - FAKE_RPROC_DA_BASE > FAKE_RPROC_MEM_SIZE - len)
		return NULL;
	if (is_iomem)
		*is_iomem = false;
	return priv->mem + (da - FAKE_RPROC_DA_BASE);
}

static int fake_rproc_parse_fw(struct rproc *rproc, const struct firmware *fw)
{
	int ret = rproc_elf_load_rsc_table(rproc, fw);

	if (ret)
		dev_info(&rproc->dev, "no usable resource table (%d), going on without one\n", ret);
	return 0;
}

static const struct rproc_ops fake_rproc_ops = {
	.start = fake_rproc_start,
	.stop = fake_rproc_stop,
	.attach = fake_rproc_attach,
	.detach = fake_rproc_detach,
	.da_to_va = fake_rproc_da_to_va,
	.parse_fw = fake_rproc_parse_fw,
	.load = rproc_elf_load_segments,
	.sanity_check = rproc_elf_sanity_check,
	.get_boot_addr = rproc_elf_get_boot_addr,
	.find_loaded_rsc_table = rproc_elf_find_loaded_rsc_table,
};

static int fake_rproc_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct fake_rproc *priv;
	struct rproc *rproc;
	int ret;

	rproc = rproc_alloc(dev, name, &fake_rproc_ops, NULL, sizeof(*priv));
	if (!rproc)
		return -ENOMEM;
	priv = rproc->priv;
	priv->mem = vzalloc(FAKE_RPROC_MEM_SIZE);
	if (!priv->mem) {
		rproc_free(rproc);
		return -ENOMEM;
	}
	rproc->auto_boot = false;
	if (attached) {
		/* rproc_add() only attaches when auto_boot is set */
		rproc->state = RPROC_DETACHED;
		rproc->auto_boot = true;
	}
	platform_set_drvdata(pdev, rproc);

	ret = rproc_add(rproc);
	if (ret) {
		vfree(priv->mem);
		rproc_free(rproc);
		return ret;
	}
	dev_info(dev, "fake remoteproc '%s' registered (attached=%d)\n", name, attached);
	return 0;
}

static int fake_rproc_remove(struct platform_device *pdev)
{
	struct rproc *rproc = platform_get_drvdata(pdev);
	struct fake_rproc *priv = rproc->priv;
	void *mem = priv->mem;

	rproc_del(rproc);
	rproc_free(rproc);
	vfree(mem);
	return 0;
}

static struct platform_driver fake_rproc_driver = {
	.probe = fake_rproc_probe,
	.remove = fake_rproc_remove,
	.driver = {
		.name = "fake-rproc",	/* replaced by drv_name at init */
	},
};

static struct platform_device *fake_rproc_pdev;

static int __init fake_rproc_init(void)
{
	int ret;

	fake_rproc_driver.driver.name = drv_name;
	ret = platform_driver_register(&fake_rproc_driver);
	if (ret)
		return ret;
	fake_rproc_pdev = platform_device_register_simple(drv_name, PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(fake_rproc_pdev)) {
		platform_driver_unregister(&fake_rproc_driver);
		return PTR_ERR(fake_rproc_pdev);
	}
	return 0;
}

static void __exit fake_rproc_exit(void)
{
	platform_device_unregister(fake_rproc_pdev);
	platform_driver_unregister(&fake_rproc_driver);
}

module_init(fake_rproc_init);
module_exit(fake_rproc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only fake remoteproc driver for remoteproc-runtime kernel tests");
