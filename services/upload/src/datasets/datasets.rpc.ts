import { Injectable, type OnModuleInit } from '@nestjs/common';
import { CompleteUploadDto, RpcError, StartUploadDto, UploadAdminRpc, UploadRpc, type RpcActor } from '@flotilla/contracts';
import { isAdminCaller, RpcServer, validatePayload, type RpcRequestMeta } from '@flotilla/messaging';
import { DatasetReadsService } from './dataset-reads.service.js';
import { DatasetRemovalService } from './dataset-removal.service.js';
import { UploadCompleteService } from './upload-complete.service.js';
import { UploadResumeService } from './upload-resume.service.js';
import { UploadStartService } from './upload-start.service.js';
import { DatasetRefDto, FileRefDto, ListDatasetsDto, PurgeDatasetsDto } from './dto/dataset-refs.dto.js';

/**
 * The `upload.*` RPC patterns: every call runs on behalf of an actor, and is scoped to
 * its team. The admin's patterns (`upload.purge`, `upload.counts`) are for administrators.
 */
@Injectable()
export class DatasetsRpc implements OnModuleInit {
  constructor(
    private readonly starts: UploadStartService,
    private readonly completions: UploadCompleteService,
    private readonly reads: DatasetReadsService,
    private readonly removals: DatasetRemovalService,
    private readonly server: RpcServer,
    private readonly resumes: UploadResumeService,
  ) {}

  onModuleInit(): void {
    this.server.handle(UploadRpc.Start, async (payload, meta) => this.starts.start(await validatePayload(StartUploadDto, payload), actor(meta)));
    this.server.handle(UploadRpc.Complete, async (payload, meta) => this.completions.complete(await validatePayload(CompleteUploadDto, payload), actor(meta)));
    this.server.handle(UploadRpc.Resume, async (payload, meta) => this.resumes.resume((await validatePayload(DatasetRefDto, payload)).datasetId, actor(meta)));
    this.server.handle(UploadRpc.List, async (payload, meta) => this.reads.list(actor(meta), await validatePayload(ListDatasetsDto, payload)));
    this.server.handle(UploadRpc.Get, async (payload, meta) => this.reads.get((await validatePayload(DatasetRefDto, payload)).datasetId, actor(meta)));
    this.server.handle(UploadRpc.Download, async (payload, meta) => {
      const { datasetId, fileId } = await validatePayload(FileRefDto, payload);
      return this.reads.download(datasetId, fileId, actor(meta));
    });
    this.server.handle(UploadRpc.Delete, async (payload, meta) => {
      await this.removals.delete((await validatePayload(DatasetRefDto, payload)).datasetId, actor(meta));
      return { deleted: true };
    });
    this.server.handle(UploadAdminRpc.Purge, async (payload, meta) => {
      const caller = admin(meta);
      const { before } = await validatePayload(PurgeDatasetsDto, payload);
      return this.removals.purge(new Date(before), caller);
    });
    this.server.handle(UploadAdminRpc.Counts, async (_payload, meta) => {
      // An administrator, or the admin service gathering its figures on its own.
      if (!isAdminCaller(meta, ['admin'])) throw new RpcError('FORBIDDEN', 'Only administrators see dataset counts.');
      return this.reads.counts();
    });
  }
}

/** Purging is done on an administrator's behalf (the admin service's schedule acts as one). */
function admin(meta: RpcRequestMeta): RpcActor {
  if (meta.actor?.role !== 'admin') throw new RpcError('FORBIDDEN', 'Only administrators purge datasets.');
  return meta.actor;
}

/** Dataset calls are always made on someone's behalf (the verified caller token names them). */
function actor(meta: RpcRequestMeta): RpcActor {
  if (!meta.actor) throw new RpcError('FORBIDDEN', 'Dataset calls need the caller as actor.');
  return meta.actor;
}
