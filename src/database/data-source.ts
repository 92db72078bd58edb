// Entry point of the TypeORM CLI (`npm run migration:*`); the app builds its connection from the same options.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config.js';
import { dataSourceOptions } from './data-source-options.js';

export default new DataSource(dataSourceOptions(loadConfig()));
