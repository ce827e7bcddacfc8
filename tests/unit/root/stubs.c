/* The shared runner resets the hypervisor's fake memory between tests;
 * the root stack's tests have none. */
void fake_mem_reset(void);

void fake_mem_reset(void)
{
}
